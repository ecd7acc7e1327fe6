package identity

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func TestIdentityRoundTrip(t *testing.T) {
	id := New()
	if err := id.Public().Verify(); err != nil {
		t.Fatal(err)
	}
	b, err := id.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalIdentity(b)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Public().Equal(id.Public()) || !back.DH().Equal(id.DH()) {
		t.Fatal("round trip changed the identity")
	}
	pb, err := id.Public().MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := UnmarshalPublicIdentity(pb)
	if err != nil || !pub.Equal(id.Public()) {
		t.Fatalf("public round trip: %v", err)
	}
}

func TestIdentityFromLibp2pKey(t *testing.T) {
	sk := keys.GeneratePrivateKey()
	id := FromKeys(sk, keys.GenerateDH())
	if id.Public().Key.PeerID() != sk.Public().PeerID() {
		t.Fatal("identity's peer ID is not the libp2p key's")
	}
}

func TestPublicIdentityForged(t *testing.T) {
	a, b := New(), New()
	tests := []struct {
		name string
		p    PublicIdentity
	}{
		{"other DH key", PublicIdentity{Key: a.Public().Key, DH: b.Public().DH, Signature: a.Public().Signature}},
		{"other signer", PublicIdentity{Key: b.Public().Key, DH: a.Public().DH, Signature: a.Public().Signature}},
		{"no signature", PublicIdentity{Key: a.Public().Key, DH: a.Public().DH}},
	}
	for _, tc := range tests {
		if err := tc.p.Verify(); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", tc.name, err)
		}
	}
}

func TestBundleVerify(t *testing.T) {
	id := New()
	spk := id.NewSignedPreKey(7, now.Add(7*24*time.Hour))
	opk := NewOneTimePreKey(42)
	other := New()
	good := id.NewBundle(spk.SignedPreKey, &opk.OneTimePreKey, 12)

	tamper := func(f func(*Bundle)) Bundle {
		b := good
		if good.OneTimePreKey != nil {
			o := *good.OneTimePreKey
			b.OneTimePreKey = &o
		}
		f(&b)
		return b
	}
	tests := []struct {
		name string
		b    Bundle
		now  time.Time
		want error
	}{
		{"good", good, now, nil},
		{"good without one-time prekey", id.NewBundle(spk.SignedPreKey, nil, 0), now, nil},
		{"expired", good, now.Add(8 * 24 * time.Hour), ErrExpired},
		{"difficulty lowered", tamper(func(b *Bundle) { b.StampDifficulty = 0 }), now, ErrBadSignature},
		{"one-time prekey stripped", tamper(func(b *Bundle) { b.OneTimePreKey = nil }), now, ErrBadSignature},
		{"one-time prekey swapped", tamper(func(b *Bundle) { b.OneTimePreKey.Public = other.Public().DH }), now, ErrBadSignature},
		{"signed prekey swapped", tamper(func(b *Bundle) { b.SignedPreKey.Public = other.Public().DH }), now, ErrBadSignature},
		{"signed prekey of another identity", tamper(func(b *Bundle) {
			b.SignedPreKey = other.NewSignedPreKey(7, now.Add(time.Hour)).SignedPreKey
		}), now, ErrBadSignature},
		{"identity swapped", tamper(func(b *Bundle) { b.Identity = other.Public() }), now, ErrBadSignature},
		{"difficulty absurd", tamper(func(b *Bundle) { b.StampDifficulty = 200 }), now, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.b.Verify(tc.now)
			if tc.want == nil && err != nil || tc.want != nil && !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				return
			}
			enc, err := tc.b.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			back, err := UnmarshalBundle(enc)
			if err != nil {
				t.Fatal(err)
			}
			if err := back.Verify(tc.now); err != nil {
				t.Fatalf("decoded bundle: %v", err)
			}
		})
	}
}

func TestPreKeyPairRoundTrip(t *testing.T) {
	id := New()
	spk := id.NewSignedPreKey(3, now.Add(time.Hour))
	b, err := spk.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalSignedPreKeyPair(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.ID != 3 || back.Public != spk.Public || !back.Private.Equal(spk.Private) || !back.Expires.Equal(spk.Expires) {
		t.Fatal("signed prekey round trip changed it")
	}
	if err := back.Verify(id.Public().Key, now); err != nil {
		t.Fatal(err)
	}
	opk := NewOneTimePreKey(9)
	b, err = opk.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back2, err := UnmarshalOneTimePreKeyPair(b)
	if err != nil || back2.ID != 9 || !back2.Private.Equal(opk.Private) {
		t.Fatalf("one-time prekey round trip: %v", err)
	}
}

func TestDecodersRejectGarbage(t *testing.T) {
	inputs := [][]byte{nil, {0}, {0xff, 0xff, 0xff}, make([]byte, MaxBundleSize+1)}
	for i, in := range inputs {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if _, err := UnmarshalBundle(in); err == nil {
				t.Error("UnmarshalBundle accepted garbage")
			}
			if _, err := UnmarshalIdentity(in); err == nil {
				t.Error("UnmarshalIdentity accepted garbage")
			}
			if _, err := UnmarshalPublicIdentity(in); err == nil {
				t.Error("UnmarshalPublicIdentity accepted garbage")
			}
			if _, err := UnmarshalSignedPreKeyPair(in); err == nil {
				t.Error("UnmarshalSignedPreKeyPair accepted garbage")
			}
			if _, err := UnmarshalOneTimePreKeyPair(in); err == nil {
				t.Error("UnmarshalOneTimePreKeyPair accepted garbage")
			}
		})
	}
}

func TestStringHidesSecrets(t *testing.T) {
	id := New()
	for _, s := range []string{id.String(), fmt.Sprintf("%v", id), fmt.Sprintf("%+v", id), fmt.Sprintf("%#v", id)} {
		if strings.Contains(s, hex.EncodeToString(id.Signing().Seed())) || strings.Contains(s, hex.EncodeToString(id.DH().Bytes())) {
			t.Errorf("%q prints a secret", s)
		}
	}
}
