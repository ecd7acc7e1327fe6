package identity

import (
	"testing"
	"time"
)

func FuzzUnmarshalBundle(f *testing.F) {
	id := New()
	spk := id.NewSignedPreKey(1, now.Add(time.Hour))
	opk := NewOneTimePreKey(2)
	for _, b := range []Bundle{id.NewBundle(spk.SignedPreKey, &opk.OneTimePreKey, 10), id.NewBundle(spk.SignedPreKey, nil, 0)} {
		enc, err := b.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		b, err := UnmarshalBundle(data)
		if err != nil {
			return
		}
		_ = b.Verify(now) // must not panic
		enc, err := b.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		back, err := UnmarshalBundle(enc)
		if err != nil {
			t.Fatalf("re-encoded bundle does not decode: %v", err)
		}
		if string(back.signedBytes()) != string(b.signedBytes()) || string(back.Signature) != string(b.Signature) {
			t.Fatal("bundle changed across a round trip")
		}
	})
}

func FuzzUnmarshalPublicIdentity(f *testing.F) {
	enc, err := New().Public().MarshalBinary()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(enc)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := UnmarshalPublicIdentity(data)
		if err != nil {
			return
		}
		if err := p.Verify(); err != nil {
			t.Fatalf("decoder accepted an identity that does not verify: %v", err)
		}
	})
}

func FuzzUnmarshalSecrets(f *testing.F) {
	id := New()
	for _, m := range []interface{ MarshalBinary() ([]byte, error) }{id, id.NewSignedPreKey(1, now), NewOneTimePreKey(1)} {
		enc, err := m.MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if id, err := UnmarshalIdentity(data); err == nil {
			if err := id.Public().Verify(); err != nil {
				t.Fatal(err)
			}
		}
		if p, err := UnmarshalSignedPreKeyPair(data); err == nil && p.Private.Public() != p.Public {
			t.Fatal("signed prekey pair does not match")
		}
		if p, err := UnmarshalOneTimePreKeyPair(data); err == nil && p.Private.Public() != p.Public {
			t.Fatal("one-time prekey pair does not match")
		}
	})
}
