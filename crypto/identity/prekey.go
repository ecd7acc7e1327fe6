package identity

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/internal/sessionpb"
	"github.com/backchannel/backchannel/crypto/keys"
)

const domainSignedPreKey = "identity/signed-prekey/v1"

// SignedPreKey is the public half of a medium-term X25519 prekey, signed by
// the identity key, with an expiry. Nodes rotate it well before it expires.
type SignedPreKey struct {
	ID        uint32
	Public    keys.DHPublic
	Expires   time.Time
	Signature []byte
}

func (s SignedPreKey) signedBytes(owner keys.PublicKey) []byte {
	var b canon.Builder
	return b.Fixed(owner[:]).Uint64(uint64(s.ID)).Fixed(s.Public[:]).Int64(s.Expires.Unix()).Build()
}

// Verify checks the owner's signature and the expiry.
func (s SignedPreKey) Verify(owner keys.PublicKey, now time.Time) error {
	if s.Public.IsZero() {
		return fmt.Errorf("%w: zero signed prekey", ErrMalformed)
	}
	if !owner.Verify(domainSignedPreKey, s.signedBytes(owner), s.Signature) {
		return fmt.Errorf("%w: signed prekey %d of %s", ErrBadSignature, s.ID, owner)
	}
	if !now.Before(s.Expires) {
		return fmt.Errorf("%w: signed prekey %d expired at %s", ErrExpired, s.ID, s.Expires.UTC().Format(time.RFC3339))
	}
	return nil
}

func (s SignedPreKey) toProto() *sessionpb.SignedPreKey {
	return &sessionpb.SignedPreKey{Id: s.ID, PublicKey: s.Public.Bytes(), ExpiresUnix: s.Expires.Unix(), Signature: s.Signature}
}

func signedPreKeyFromProto(m *sessionpb.SignedPreKey) (SignedPreKey, error) {
	if m == nil {
		return SignedPreKey{}, fmt.Errorf("%w: missing signed prekey", ErrMalformed)
	}
	pub, err := keys.DHPublicFromBytes(m.PublicKey)
	if err != nil {
		return SignedPreKey{}, fmt.Errorf("%w: signed prekey: %w", ErrMalformed, err)
	}
	if len(m.Signature) != keys.SignatureSize {
		return SignedPreKey{}, fmt.Errorf("%w: signed prekey signature is %d bytes", ErrMalformed, len(m.Signature))
	}
	return SignedPreKey{
		ID:        m.Id,
		Public:    pub,
		Expires:   time.Unix(m.ExpiresUnix, 0).UTC(),
		Signature: append([]byte(nil), m.Signature...),
	}, nil
}

// SignedPreKeyPair is a signed prekey with its private key, kept by its owner.
type SignedPreKeyPair struct {
	SignedPreKey
	Private keys.DHPrivate
}

// NewSignedPreKey makes and signs a fresh signed prekey that expires at expires.
// Expiry is kept to the second.
func (id Identity) NewSignedPreKey(keyID uint32, expires time.Time) SignedPreKeyPair {
	priv := keys.GenerateDH()
	spk := SignedPreKey{ID: keyID, Public: priv.Public(), Expires: time.Unix(expires.Unix(), 0).UTC()}
	spk.Signature = id.signing.Sign(domainSignedPreKey, spk.signedBytes(id.public.Key))
	return SignedPreKeyPair{SignedPreKey: spk, Private: priv}
}

// MarshalBinary encodes the pair with its private key, for the owner's store.
func (p SignedPreKeyPair) MarshalBinary() ([]byte, error) {
	return proto.Marshal(&sessionpb.SignedPreKeySecret{Version: version, Public: p.toProto(), PrivateKey: p.Private.Bytes()})
}

// UnmarshalSignedPreKeyPair decodes a pair made by MarshalBinary.
func UnmarshalSignedPreKeyPair(b []byte) (SignedPreKeyPair, error) {
	var m sessionpb.SignedPreKeySecret
	if err := proto.Unmarshal(b, &m); err != nil {
		return SignedPreKeyPair{}, fmt.Errorf("%w: signed prekey: %w", ErrMalformed, err)
	}
	if m.Version != version {
		return SignedPreKeyPair{}, fmt.Errorf("%w: signed prekey version %d", ErrVersion, m.Version)
	}
	pub, err := signedPreKeyFromProto(m.Public)
	if err != nil {
		return SignedPreKeyPair{}, err
	}
	priv, err := keys.DHPrivateFromBytes(m.PrivateKey)
	if err != nil {
		return SignedPreKeyPair{}, fmt.Errorf("%w: signed prekey: %w", ErrMalformed, err)
	}
	if priv.Public() != pub.Public {
		return SignedPreKeyPair{}, fmt.Errorf("%w: signed prekey private key does not match", ErrMalformed)
	}
	return SignedPreKeyPair{SignedPreKey: pub, Private: priv}, nil
}

// OneTimePreKey is the public half of a single-use X25519 prekey. The owner
// deletes the private half once a session has used it.
type OneTimePreKey struct {
	ID     uint32
	Public keys.DHPublic
}

// OneTimePreKeyPair is a one-time prekey with its private key.
type OneTimePreKeyPair struct {
	OneTimePreKey
	Private keys.DHPrivate
}

// NewOneTimePreKey makes a fresh one-time prekey.
func NewOneTimePreKey(keyID uint32) OneTimePreKeyPair {
	priv := keys.GenerateDH()
	return OneTimePreKeyPair{OneTimePreKey: OneTimePreKey{ID: keyID, Public: priv.Public()}, Private: priv}
}

// MarshalBinary encodes the pair with its private key, for the owner's store.
func (p OneTimePreKeyPair) MarshalBinary() ([]byte, error) {
	return proto.Marshal(&sessionpb.OneTimePreKeySecret{
		Version:    version,
		Public:     &sessionpb.OneTimePreKey{Id: p.ID, PublicKey: p.Public.Bytes()},
		PrivateKey: p.Private.Bytes(),
	})
}

// UnmarshalOneTimePreKeyPair decodes a pair made by MarshalBinary.
func UnmarshalOneTimePreKeyPair(b []byte) (OneTimePreKeyPair, error) {
	var m sessionpb.OneTimePreKeySecret
	if err := proto.Unmarshal(b, &m); err != nil {
		return OneTimePreKeyPair{}, fmt.Errorf("%w: one-time prekey: %w", ErrMalformed, err)
	}
	if m.Version != version {
		return OneTimePreKeyPair{}, fmt.Errorf("%w: one-time prekey version %d", ErrVersion, m.Version)
	}
	pub, err := oneTimePreKeyFromProto(m.Public)
	if err != nil {
		return OneTimePreKeyPair{}, err
	}
	priv, err := keys.DHPrivateFromBytes(m.PrivateKey)
	if err != nil {
		return OneTimePreKeyPair{}, fmt.Errorf("%w: one-time prekey: %w", ErrMalformed, err)
	}
	if priv.Public() != pub.Public {
		return OneTimePreKeyPair{}, fmt.Errorf("%w: one-time prekey private key does not match", ErrMalformed)
	}
	return OneTimePreKeyPair{OneTimePreKey: pub, Private: priv}, nil
}

func oneTimePreKeyFromProto(m *sessionpb.OneTimePreKey) (OneTimePreKey, error) {
	if m == nil {
		return OneTimePreKey{}, fmt.Errorf("%w: missing one-time prekey", ErrMalformed)
	}
	pub, err := keys.DHPublicFromBytes(m.PublicKey)
	if err != nil {
		return OneTimePreKey{}, fmt.Errorf("%w: one-time prekey: %w", ErrMalformed, err)
	}
	return OneTimePreKey{ID: m.Id, Public: pub}, nil
}
