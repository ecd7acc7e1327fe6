// Package keys defines Backchannel's typed key material: the Ed25519 identity
// key (which is the node's libp2p key, so its peer ID is the user's address),
// X25519 Diffie-Hellman keys, and domain-separated signatures.
//
// No raw byte slice crosses a package boundary as a key: other packages hold a
// PublicKey, PrivateKey, DHPublic or DHPrivate. Private keys never print their
// secret bytes.
package keys

import (
	"errors"
)

// Sizes of encoded keys and signatures.
const (
	PublicKeySize = 32 // Ed25519 public key
	SignatureSize = 64 // Ed25519 signature
	DHKeySize     = 32 // X25519 public or private key
)

// Errors returned when decoding keys.
var (
	// ErrKeySize means an encoded key has the wrong length.
	ErrKeySize = errors.New("keys: wrong key size")
	// ErrZeroKey means a key is all zeroes (the zero value, never a real key).
	ErrZeroKey = errors.New("keys: zero key")
	// ErrKeyType means a libp2p key is not an Ed25519 key.
	ErrKeyType = errors.New("keys: not an Ed25519 key")
	// ErrLowOrder means a Diffie-Hellman exchange produced the all-zero value,
	// which happens only with a malicious low-order public key.
	ErrLowOrder = errors.New("keys: low-order X25519 public key")
)

func isZero(b []byte) bool {
	var acc byte
	for _, c := range b {
		acc |= c
	}
	return acc == 0
}
