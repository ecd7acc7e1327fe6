package identity

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/internal/sessionpb"
	"github.com/backchannel/backchannel/crypto/keys"
)

const (
	version        = 1
	domainIdentity = "identity/x25519/v1"
)

// Identity is a node's long-term secret: its Ed25519 signing key and its
// X25519 identity key. Persist it with MarshalBinary, in the node's own store only.
type Identity struct {
	signing keys.PrivateKey
	dh      keys.DHPrivate
	public  PublicIdentity
}

// New makes a fresh identity.
func New() Identity {
	return FromKeys(keys.GeneratePrivateKey(), keys.GenerateDH())
}

// FromKeys assembles an identity from its two keys (the Ed25519 key is the
// node's libp2p key) and signs the binding between them.
func FromKeys(signing keys.PrivateKey, dh keys.DHPrivate) Identity {
	if signing.IsZero() || dh.IsZero() {
		panic("identity: FromKeys with a zero key")
	}
	pub := PublicIdentity{Key: signing.Public(), DH: dh.Public()}
	pub.Signature = signing.Sign(domainIdentity, pub.signedBytes())
	return Identity{signing: signing, dh: dh, public: pub}
}

// IsZero reports whether id is the zero value.
func (id Identity) IsZero() bool { return id.signing.IsZero() }

// Signing returns the Ed25519 identity key.
func (id Identity) Signing() keys.PrivateKey { return id.signing }

// DH returns the X25519 identity key.
func (id Identity) DH() keys.DHPrivate { return id.dh }

// Public returns the signed public identity that others see.
func (id Identity) Public() PublicIdentity { return id.public }

// String names the identity by its peer ID; it never prints secrets.
func (id Identity) String() string { return "identity.Identity(" + id.public.Key.String() + ")" }

// GoString is like String.
func (id Identity) GoString() string { return id.String() }

// MarshalBinary encodes the identity with its secrets, for the node's store.
func (id Identity) MarshalBinary() ([]byte, error) {
	return proto.Marshal(&sessionpb.IdentitySecret{
		Version:   version,
		Seed:      id.signing.Seed(),
		DhPrivate: id.dh.Bytes(),
	})
}

// UnmarshalIdentity decodes an identity made by MarshalBinary.
func UnmarshalIdentity(b []byte) (Identity, error) {
	var m sessionpb.IdentitySecret
	if err := proto.Unmarshal(b, &m); err != nil {
		return Identity{}, fmt.Errorf("%w: identity: %w", ErrMalformed, err)
	}
	if m.Version != version {
		return Identity{}, fmt.Errorf("%w: identity version %d", ErrVersion, m.Version)
	}
	sk, err := keys.PrivateKeyFromSeed(m.Seed)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: identity: %w", ErrMalformed, err)
	}
	dh, err := keys.DHPrivateFromBytes(m.DhPrivate)
	if err != nil {
		return Identity{}, fmt.Errorf("%w: identity: %w", ErrMalformed, err)
	}
	return FromKeys(sk, dh), nil
}

// PublicIdentity is an Ed25519 identity key with the X25519 identity key it
// vouches for.
type PublicIdentity struct {
	Key       keys.PublicKey
	DH        keys.DHPublic
	Signature []byte
}

func (p PublicIdentity) signedBytes() []byte {
	var b canon.Builder
	return b.Fixed(p.Key[:]).Fixed(p.DH[:]).Build()
}

// Verify checks that Key signed DH.
func (p PublicIdentity) Verify() error {
	if p.Key.IsZero() || p.DH.IsZero() {
		return fmt.Errorf("%w: zero key in public identity", ErrMalformed)
	}
	if !p.Key.Verify(domainIdentity, p.signedBytes(), p.Signature) {
		return fmt.Errorf("%w: X25519 identity key of %s", ErrBadSignature, p.Key)
	}
	return nil
}

// Equal reports whether two public identities name the same keys.
func (p PublicIdentity) Equal(o PublicIdentity) bool { return p.Key == o.Key && p.DH == o.DH }

// ToProto converts to the wire type. For use by the crypto packages only.
func (p PublicIdentity) ToProto() *sessionpb.PublicIdentity {
	return &sessionpb.PublicIdentity{Version: version, Key: p.Key.Bytes(), DhKey: p.DH.Bytes(), Signature: p.Signature}
}

// PublicIdentityFromProto converts from the wire type, checking its form but
// not its signature: callers that need it verified call Verify (x3dh.Respond
// and Bundle.Verify do). For use by the crypto packages only.
func PublicIdentityFromProto(m *sessionpb.PublicIdentity) (PublicIdentity, error) {
	if m == nil {
		return PublicIdentity{}, fmt.Errorf("%w: missing public identity", ErrMalformed)
	}
	if m.Version != version {
		return PublicIdentity{}, fmt.Errorf("%w: public identity version %d", ErrVersion, m.Version)
	}
	k, err := keys.PublicKeyFromBytes(m.Key)
	if err != nil {
		return PublicIdentity{}, fmt.Errorf("%w: public identity: %w", ErrMalformed, err)
	}
	dh, err := keys.DHPublicFromBytes(m.DhKey)
	if err != nil {
		return PublicIdentity{}, fmt.Errorf("%w: public identity: %w", ErrMalformed, err)
	}
	if len(m.Signature) != keys.SignatureSize {
		return PublicIdentity{}, fmt.Errorf("%w: public identity signature is %d bytes", ErrMalformed, len(m.Signature))
	}
	return PublicIdentity{Key: k, DH: dh, Signature: append([]byte(nil), m.Signature...)}, nil
}

// MarshalBinary encodes the public identity.
func (p PublicIdentity) MarshalBinary() ([]byte, error) { return proto.Marshal(p.ToProto()) }

// UnmarshalPublicIdentity decodes and verifies a public identity.
func UnmarshalPublicIdentity(b []byte) (PublicIdentity, error) {
	var m sessionpb.PublicIdentity
	if err := proto.Unmarshal(b, &m); err != nil {
		return PublicIdentity{}, fmt.Errorf("%w: public identity: %w", ErrMalformed, err)
	}
	p, err := PublicIdentityFromProto(&m)
	if err != nil {
		return PublicIdentity{}, err
	}
	if err := p.Verify(); err != nil {
		return PublicIdentity{}, err
	}
	return p, nil
}
