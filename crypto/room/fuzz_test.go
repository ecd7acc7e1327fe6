package room

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
)

// fuzzKey returns a fixed key, so that seed corpora are the same every run.
func fuzzKey(f *testing.F, b byte) keys.PrivateKey {
	sk, err := keys.PrivateKeyFromSeed(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		f.Fatal(err)
	}
	return sk
}

type marshaler interface{ MarshalBinary() ([]byte, error) }

func addSeeds(f *testing.F, vs ...marshaler) {
	for _, v := range vs {
		enc, err := v.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
		f.Add(enc[:len(enc)/2])
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x01})
}

func fuzzRoom(f *testing.F) (keys.PrivateKey, Descriptor) {
	host := fuzzKey(f, 1)
	d := Descriptor{Nonce: Nonce{1, 2, 3}, Name: "fuzz room", Description: "seed", Start: t0.Add(time.Hour), Created: t0}
	if err := d.Sign(host); err != nil {
		f.Fatal(err)
	}
	return host, d
}

func FuzzUnmarshalMessage(f *testing.F) {
	_, d := fuzzRoom(f)
	alice := fuzzKey(f, 2)
	var seeds []marshaler
	for i, body := range [][]byte{nil, []byte("hello"), bytes.Repeat([]byte{0xee}, MaxBody)} {
		m := Message{Room: d.Room, Kind: KindChat + Kind(i), Seq: uint64(1) << (20 * i), Timestamp: t0, Body: body}
		if err := m.Sign(alice); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, m)
	}
	addSeeds(f, seeds...)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := UnmarshalMessage(data)
		id := WireMessageID(data) // must not panic, accepted or not
		if err != nil {
			return
		}
		_ = m.Verify(d.Room)
		if id != m.ID() {
			t.Fatal("WireMessageID differs from the decoded message's ID")
		}
		enc, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded message does not encode: %v", err)
		}
		back, err := UnmarshalMessage(enc)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Fatalf("message changed across a round trip:\n got %+v\nwant %+v", back, m)
		}
		if again, _ := back.MarshalBinary(); !bytes.Equal(again, enc) {
			t.Fatal("encoding is not stable")
		}
	})
}

func FuzzUnmarshalDescriptor(f *testing.F) {
	_, d := fuzzRoom(f)
	unscheduled := Descriptor{Nonce: Nonce{9}, Name: "ünïcode", Created: t0}
	if err := unscheduled.Sign(fuzzKey(f, 3)); err != nil {
		f.Fatal(err)
	}
	addSeeds(f, d, unscheduled)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := UnmarshalDescriptor(data)
		if err != nil {
			return
		}
		_ = d.Verify()
		enc, err := d.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded descriptor does not encode: %v", err)
		}
		back, err := UnmarshalDescriptor(enc)
		if err != nil {
			t.Fatalf("re-encoded descriptor does not decode: %v", err)
		}
		if !reflect.DeepEqual(back, d) {
			t.Fatalf("descriptor changed across a round trip:\n got %+v\nwant %+v", back, d)
		}
		if again, _ := back.MarshalBinary(); !bytes.Equal(again, enc) {
			t.Fatal("encoding is not stable")
		}
	})
}

func FuzzUnmarshalRoleGrant(f *testing.F) {
	host, d := fuzzRoom(f)
	var seeds []marshaler
	for _, role := range []Role{RoleSpeaker, RoleModerator} {
		g := RoleGrant{Room: d.Room, Grantee: fuzzKey(f, 4).Public(), Role: role, IssuedAt: t0, ExpiresAt: t0.Add(MaxGrantLifetime)}
		if err := g.Sign(host); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, g)
	}
	addSeeds(f, seeds...)
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := UnmarshalRoleGrant(data)
		if err != nil {
			return
		}
		_ = g.Verify(host.Public(), d.Room, t0)
		enc, err := g.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded grant does not encode: %v", err)
		}
		back, err := UnmarshalRoleGrant(enc)
		if err != nil {
			t.Fatalf("re-encoded grant does not decode: %v", err)
		}
		if back != g {
			t.Fatalf("grant changed across a round trip:\n got %+v\nwant %+v", back, g)
		}
		if again, _ := back.MarshalBinary(); !bytes.Equal(again, enc) {
			t.Fatal("encoding is not stable")
		}
	})
}

func FuzzUnmarshalBallot(f *testing.F) {
	_, d := fuzzRoom(f)
	voter := fuzzKey(f, 5)
	var seeds []marshaler
	for _, emoji := range []string{"", "👍", strings.Repeat("x", MaxBallotEmoji)} {
		b := Ballot{Room: d.Room, Target: MessageID{7, 7, 7}, Emoji: emoji, Time: t0}
		if err := b.Sign(voter); err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, b)
	}
	addSeeds(f, seeds...)
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := UnmarshalBallot(data)
		if err != nil {
			return
		}
		_ = b.Verify(d.Room)
		_ = b.ID()
		enc, err := b.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded ballot does not encode: %v", err)
		}
		if len(enc) > MaxBallotSize {
			t.Fatalf("decoded ballot encodes to %d bytes, over MaxBallotSize", len(enc))
		}
		back, err := UnmarshalBallot(enc)
		if err != nil {
			t.Fatalf("re-encoded ballot does not decode: %v", err)
		}
		if back != b {
			t.Fatalf("ballot changed across a round trip:\n got %+v\nwant %+v", back, b)
		}
		if again, _ := back.MarshalBinary(); !bytes.Equal(again, enc) {
			t.Fatal("encoding is not stable")
		}
	})
}

func FuzzParseID(f *testing.F) {
	_, d := fuzzRoom(f)
	f.Add(d.Room.String())
	f.Add(strings.ToUpper(d.Room.String()))
	f.Add(ID{}.String())
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		id, err := ParseID(s)
		if err != nil {
			return
		}
		if id.String() != strings.ToLower(s) {
			t.Fatalf("ParseID(%q) = %s, which prints differently", s, id)
		}
		if back, err := ParseID(id.String()); err != nil || back != id {
			t.Fatalf("ParseID(String()) = %s, %v", back, err)
		}
	})
}
