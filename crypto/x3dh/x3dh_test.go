package x3dh

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/identity"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type responder struct {
	id  identity.Identity
	spk identity.SignedPreKeyPair
	opk identity.OneTimePreKeyPair
}

func newResponder() responder {
	id := identity.New()
	return responder{id: id, spk: id.NewSignedPreKey(1, now.Add(time.Hour)), opk: identity.NewOneTimePreKey(5)}
}

func TestAgreement(t *testing.T) {
	for _, withOPK := range []bool{true, false} {
		t.Run(map[bool]string{true: "with one-time prekey", false: "without one-time prekey"}[withOPK], func(t *testing.T) {
			alice, bob := identity.New(), newResponder()
			var opk *identity.OneTimePreKey
			var opkPair *identity.OneTimePreKeyPair
			if withOPK {
				opk, opkPair = &bob.opk.OneTimePreKey, &bob.opk
			}
			bundle := bob.id.NewBundle(bob.spk.SignedPreKey, opk, 0)
			ra, h, err := Initiate(alice, bundle, now)
			if err != nil {
				t.Fatal(err)
			}
			enc, err := h.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			h2, err := UnmarshalHeader(enc)
			if err != nil {
				t.Fatal(err)
			}
			rb, err := Respond(bob.id, bob.spk, opkPair, h2)
			if err != nil {
				t.Fatal(err)
			}
			if ra.Secret.Key() != rb.Secret.Key() {
				t.Fatal("secrets differ")
			}
			if !bytes.Equal(ra.AssociatedData, rb.AssociatedData) {
				t.Fatal("associated data differs")
			}
			if ra.ResponderRatchetKey != bob.spk.Public || rb.ResponderRatchetKey != bob.spk.Public {
				t.Fatal("ratchet key is not the signed prekey")
			}
			if !ra.Remote.Equal(bob.id.Public()) || !rb.Remote.Equal(alice.Public()) {
				t.Fatal("remote identities wrong")
			}
		})
	}
}

func TestOneTimePreKeyChangesSecret(t *testing.T) {
	alice, bob := identity.New(), newResponder()
	with, _, err := Initiate(alice, bob.id.NewBundle(bob.spk.SignedPreKey, &bob.opk.OneTimePreKey, 0), now)
	if err != nil {
		t.Fatal(err)
	}
	without, _, err := Initiate(alice, bob.id.NewBundle(bob.spk.SignedPreKey, nil, 0), now)
	if err != nil {
		t.Fatal(err)
	}
	if with.Secret.Key() == without.Secret.Key() {
		t.Fatal("fresh ephemeral keys gave the same secret")
	}
}

func TestRespondErrors(t *testing.T) {
	alice, bob := identity.New(), newResponder()
	_, h, err := Initiate(alice, bob.id.NewBundle(bob.spk.SignedPreKey, &bob.opk.OneTimePreKey, 0), now)
	if err != nil {
		t.Fatal(err)
	}
	otherOPK := identity.NewOneTimePreKey(6)
	otherSPK := bob.id.NewSignedPreKey(2, now.Add(time.Hour))
	forged := h
	forged.Initiator.DH = identity.New().Public().DH
	tests := []struct {
		name string
		spk  identity.SignedPreKeyPair
		opk  *identity.OneTimePreKeyPair
		h    Header
		want error
	}{
		{"wrong signed prekey", otherSPK, &bob.opk, h, ErrWrongPreKey},
		{"missing one-time prekey", bob.spk, nil, h, ErrWrongPreKey},
		{"wrong one-time prekey", bob.spk, &otherOPK, h, ErrWrongPreKey},
		{"forged initiator identity", bob.spk, &bob.opk, forged, identity.ErrBadSignature},
	}
	for _, tc := range tests {
		if _, err := Respond(bob.id, tc.spk, tc.opk, tc.h); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestInitiateRejectsBadBundle(t *testing.T) {
	alice, bob := identity.New(), newResponder()
	b := bob.id.NewBundle(bob.spk.SignedPreKey, nil, 0)
	if _, _, err := Initiate(alice, b, now.Add(2*time.Hour)); !errors.Is(err, identity.ErrExpired) {
		t.Errorf("expired bundle: err = %v", err)
	}
	b.StampDifficulty = 3
	if _, _, err := Initiate(alice, b, now); !errors.Is(err, identity.ErrBadSignature) {
		t.Errorf("tampered bundle: err = %v", err)
	}
	self := alice.NewBundle(alice.NewSignedPreKey(1, now.Add(time.Hour)).SignedPreKey, nil, 0)
	if _, _, err := Initiate(alice, self, now); !errors.Is(err, ErrSelf) {
		t.Errorf("own bundle: err = %v", err)
	}
}

func TestSecretStringRedacted(t *testing.T) {
	var s SharedSecret
	s.k[0] = 0xab
	if got := s.String() + s.GoString(); bytes.Contains([]byte(got), []byte("ab")) {
		t.Errorf("String = %q", got)
	}
}

func FuzzUnmarshalHeader(f *testing.F) {
	alice, bob := identity.New(), newResponder()
	for _, opk := range []*identity.OneTimePreKey{&bob.opk.OneTimePreKey, nil} {
		_, h, err := Initiate(alice, bob.id.NewBundle(bob.spk.SignedPreKey, opk, 0), now)
		if err != nil {
			f.Fatal(err)
		}
		enc, err := h.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := UnmarshalHeader(data)
		if err != nil {
			return
		}
		enc, err := h.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalHeader(enc)
		if err != nil || !(back.Initiator.Equal(h.Initiator) && back.Ephemeral == h.Ephemeral &&
			back.SignedPreKeyID == h.SignedPreKeyID && back.HasOneTimePreKey == h.HasOneTimePreKey && back.OneTimePreKeyID == h.OneTimePreKeyID) {
			t.Fatalf("header changed across a round trip: %v", err)
		}
	})
}

func BenchmarkX3DH(b *testing.B) {
	alice, bob := identity.New(), newResponder()
	bundle := bob.id.NewBundle(bob.spk.SignedPreKey, &bob.opk.OneTimePreKey, 0)
	for b.Loop() {
		_, h, err := Initiate(alice, bundle, now)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := Respond(bob.id, bob.spk, &bob.opk, h); err != nil {
			b.Fatal(err)
		}
	}
}
