package group

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

// frameSizes is every size a frame can have: one per padded size.
func frameSizes(t testing.TB, gk GroupKey, sk keys.PrivateKey) []int {
	t.Helper()
	send := mustSendChain(t, gk, sk)
	var sizes []int
	for _, n := range PaddedSizes {
		f, err := gk.Frame(mustSeal(t, send, strings.Repeat("x", n-1)))
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(f))
	}
	return sizes
}

func TestFrameRoundTrip(t *testing.T) {
	gk := newGroupKey(t)
	sk := keys.GeneratePrivateKey()
	send := mustSendChain(t, gk, sk)
	recv := mustReceiveChain(t, gk, sk.Public())
	sizes := frameSizes(t, gk, keys.GeneratePrivateKey())
	skipTo(send, 7)
	for _, msg := range []string{"", "hi", strings.Repeat("a", 255), strings.Repeat("b", 256), strings.Repeat("c", MaxPlaintext)} {
		e := mustSeal(t, send, msg)
		f, err := gk.Frame(e)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(sizes, len(f)) {
			t.Errorf("a %d-byte message made a %d-byte frame, not one of %v", len(msg), len(f), sizes)
		}
		// Nothing of the header is in clear.
		seq := binary.BigEndian.AppendUint64(nil, e.Seq)
		for name, b := range map[string][]byte{"sender": sk.Public().Bytes(), "group": gk.Group[:], "signature": e.Signature, "seq": seq} {
			if bytes.Contains(f, b) {
				t.Errorf("frame carries the %s in clear", name)
			}
		}
		got, err := gk.Unframe(f)
		if err != nil {
			t.Fatalf("Unframe: %v", err)
		}
		if got.Hash() != e.Hash() || got.Sender != e.Sender || got.Seq != e.Seq {
			t.Fatalf("Unframe gave %+v, want %+v", got, e)
		}
		if err := got.VerifySignature(); err != nil {
			t.Fatal(err)
		}
		pt, err := recv.OpenVerified(got)
		if err != nil || string(pt) != msg {
			t.Fatalf("open: %q, %v; want %q", pt, err, msg)
		}
	}
}

func TestUnframeRefuses(t *testing.T) {
	gk := newGroupKey(t)
	send := mustSendChain(t, gk, keys.GeneratePrivateKey())
	f, err := gk.Frame(mustSeal(t, send, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	next := gk
	next.Epoch++
	other := gk
	other.Key = NewEpochKey()
	flip := func(i int) []byte { b := bytes.Clone(f); b[i] ^= 1; return b }
	for _, tc := range []struct {
		name string
		key  GroupKey
		b    []byte
		want error
	}{
		{"another epoch's key", next, f, ErrDecrypt},
		{"another group's key", other, f, ErrDecrypt},
		{"a flipped sender-data byte", gk, flip(10), ErrDecrypt},
		{"a flipped ciphertext byte past the sample", gk, flip(len(f) - 20), nil},
		{"an unknown field", gk, append(bytes.Clone(f), 0x20, 0x01), ErrMalformed},
		{"empty", gk, nil, ErrVersion},
		{"too large", gk, make([]byte, maxFrameBytes+1), ErrTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.key.Unframe(tc.b)
			if tc.want == nil {
				// A changed ciphertext either breaks the sender data
				// (a byte of the sample) or the signature; this byte
				// lies past the sample, so the signature catches it.
				e, uerr := tc.key.Unframe(tc.b)
				if uerr != nil {
					t.Fatalf("Unframe: %v", uerr)
				}
				if e.VerifySignature() == nil {
					t.Fatal("an altered ciphertext still verifies")
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestPadding(t *testing.T) {
	for _, n := range []int{0, 1, 255, 256, 1023, 1024, 4095, MaxPlaintext} {
		p := bytes.Repeat([]byte{0x80}, n)
		padded := pad(p)
		if !slices.Contains(PaddedSizes[:], len(padded)) || len(padded) <= n {
			t.Errorf("pad(%d bytes) = %d bytes", n, len(padded))
		}
		got, err := unpad(padded)
		if err != nil || !bytes.Equal(got, p) {
			t.Errorf("unpad(pad(%d bytes)) = %d bytes, %v", n, len(got), err)
		}
	}
	for _, bad := range [][]byte{make([]byte, 256), append(make([]byte, 255), 1), make([]byte, 100)} {
		if _, err := unpad(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("unpad of a bad %d-byte plaintext: %v", len(bad), err)
		}
	}
}

func TestTopicPerEpoch(t *testing.T) {
	gk := newGroupKey(t)
	next := gk
	next.Epoch++
	if gk.Topic() == next.Topic() || !strings.HasPrefix(gk.Topic(), TopicPrefix) {
		t.Fatalf("topics %q and %q", gk.Topic(), next.Topic())
	}
	if strings.Contains(gk.Topic(), gk.Group.String()) {
		t.Fatal("the topic names the group")
	}
}
