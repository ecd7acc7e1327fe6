package keys

import (
	"crypto/ecdh"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// DHPublic is an X25519 public key. Its zero value is invalid (see IsZero).
// It is comparable and may be used as a map key.
type DHPublic [DHKeySize]byte

// DHPublicFromBytes decodes a 32-byte X25519 public key.
func DHPublicFromBytes(b []byte) (DHPublic, error) {
	var pk DHPublic
	if len(b) != DHKeySize {
		return pk, fmt.Errorf("%w: X25519 key is %d bytes, want %d", ErrKeySize, len(b), DHKeySize)
	}
	if isZero(b) {
		return pk, ErrZeroKey
	}
	copy(pk[:], b)
	return pk, nil
}

// IsZero reports whether pk is the zero value.
func (pk DHPublic) IsZero() bool { return pk == DHPublic{} }

// Bytes returns a copy of the encoded key.
func (pk DHPublic) Bytes() []byte { return append([]byte(nil), pk[:]...) }

// String returns the key in hex; public keys are not secret.
func (pk DHPublic) String() string { return "x25519:" + hex.EncodeToString(pk[:]) }

// DHPrivate is an X25519 private key. Its zero value is invalid (see IsZero).
type DHPrivate struct {
	k *ecdh.PrivateKey
}

// GenerateDH makes a new X25519 key pair from the system's secure random source.
func GenerateDH() DHPrivate {
	k, err := ecdh.X25519().GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand never fails
	}
	return DHPrivate{k: k}
}

// DHPrivateFromBytes decodes a 32-byte X25519 private scalar.
func DHPrivateFromBytes(b []byte) (DHPrivate, error) {
	if len(b) != DHKeySize {
		return DHPrivate{}, fmt.Errorf("%w: X25519 private key is %d bytes, want %d", ErrKeySize, len(b), DHKeySize)
	}
	if isZero(b) {
		return DHPrivate{}, ErrZeroKey
	}
	k, err := ecdh.X25519().NewPrivateKey(b)
	if err != nil {
		return DHPrivate{}, fmt.Errorf("keys: %w", err)
	}
	return DHPrivate{k: k}, nil
}

// IsZero reports whether sk is the zero value.
func (sk DHPrivate) IsZero() bool { return sk.k == nil }

// Bytes returns the private scalar, for persisting the key. Handle with care.
func (sk DHPrivate) Bytes() []byte { return sk.k.Bytes() }

// Public returns the public key.
func (sk DHPrivate) Public() DHPublic {
	var pk DHPublic
	copy(pk[:], sk.k.PublicKey().Bytes())
	return pk
}

// Equal reports whether two private keys are the same, in constant time.
func (sk DHPrivate) Equal(other DHPrivate) bool {
	if sk.k == nil || other.k == nil {
		return sk.k == other.k
	}
	return sk.k.Equal(other.k)
}

// DH computes the X25519 shared secret with a peer's public key. It fails
// with ErrLowOrder for the low-order points that make the secret all zeroes.
func (sk DHPrivate) DH(peer DHPublic) ([32]byte, error) {
	var out [32]byte
	if sk.IsZero() {
		return out, ErrZeroKey
	}
	pub, err := ecdh.X25519().NewPublicKey(peer[:])
	if err != nil {
		return out, fmt.Errorf("keys: %w", err)
	}
	s, err := sk.k.ECDH(pub)
	if err != nil {
		return out, ErrLowOrder
	}
	copy(out[:], s)
	return out, nil
}

// String names the key by its public half; it never prints secret bytes.
func (sk DHPrivate) String() string {
	if sk.IsZero() {
		return "keys.DHPrivate(zero)"
	}
	return "keys.DHPrivate(" + sk.Public().String() + ")"
}

// GoString is like String, so that %#v does not print secret bytes either.
func (sk DHPrivate) GoString() string { return sk.String() }
