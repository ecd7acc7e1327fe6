package keys

import (
	"crypto/ed25519"
	"crypto/rand"
	"fmt"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peer"
)

// PublicKey is an Ed25519 identity public key. Its zero value is invalid (see
// IsZero). It is comparable and may be used as a map key.
type PublicKey [PublicKeySize]byte

// PublicKeyFromBytes decodes a 32-byte Ed25519 public key.
func PublicKeyFromBytes(b []byte) (PublicKey, error) {
	var pk PublicKey
	if len(b) != PublicKeySize {
		return pk, fmt.Errorf("%w: identity key is %d bytes, want %d", ErrKeySize, len(b), PublicKeySize)
	}
	if isZero(b) {
		return pk, ErrZeroKey
	}
	copy(pk[:], b)
	return pk, nil
}

// peerIDPrefix starts the peer ID of every Ed25519 key: an identity
// multihash (code 0x00, length 36) of the libp2p protobuf PublicKey
// {Type: Ed25519 (field 1 = 1), Data (field 2, 32 bytes)}. The key's
// 32 bytes follow it. PeerID and PublicKeyFromPeerID build and read this
// form directly: go-libp2p's general path (a PubKey value, its protobuf,
// a multihash) costs microseconds and allocations on every room line.
const peerIDPrefix = "\x00\x24\x08\x01\x12\x20"

// PublicKeyFromPeerID extracts the Ed25519 key embedded in a peer ID.
func PublicKeyFromPeerID(id peer.ID) (PublicKey, error) {
	if len(id) == len(peerIDPrefix)+PublicKeySize && string(id[:len(peerIDPrefix)]) == peerIDPrefix {
		return PublicKeyFromBytes([]byte(id[len(peerIDPrefix):]))
	}
	lk, err := id.ExtractPublicKey()
	if err != nil {
		return PublicKey{}, fmt.Errorf("keys: peer ID %s: %w", id, err)
	}
	return PublicKeyFromLibp2p(lk)
}

// PublicKeyFromLibp2p converts a libp2p public key, which must be Ed25519.
func PublicKeyFromLibp2p(lk lcrypto.PubKey) (PublicKey, error) {
	if lk.Type() != lcrypto.Ed25519 {
		return PublicKey{}, ErrKeyType
	}
	raw, err := lk.Raw()
	if err != nil {
		return PublicKey{}, fmt.Errorf("keys: %w", err)
	}
	return PublicKeyFromBytes(raw)
}

// IsZero reports whether pk is the zero value.
func (pk PublicKey) IsZero() bool { return pk == PublicKey{} }

// Bytes returns a copy of the encoded key.
func (pk PublicKey) Bytes() []byte { return append([]byte(nil), pk[:]...) }

// Libp2p returns the key as a libp2p public key.
func (pk PublicKey) Libp2p() lcrypto.PubKey {
	lk, err := lcrypto.UnmarshalEd25519PublicKey(pk[:])
	if err != nil { // only on a wrong length, which the array type rules out
		panic(err)
	}
	return lk
}

// PeerID returns the libp2p peer ID of this identity: the user's address.
func (pk PublicKey) PeerID() peer.ID {
	return peer.ID(peerIDPrefix + string(pk[:]))
}

// String returns the peer ID, the form users see.
func (pk PublicKey) String() string {
	if pk.IsZero() {
		return "keys.PublicKey(zero)"
	}
	return pk.PeerID().String()
}

// Verify reports whether sig is pk's signature of msg in the given domain.
// See PrivateKey.Sign.
func (pk PublicKey) Verify(domain string, msg, sig []byte) bool {
	if pk.IsZero() || len(sig) != SignatureSize {
		return false
	}
	return verify(pk, domainMessage(domain, msg), sig)
}

// PrivateKey is an Ed25519 identity private key: the node's libp2p key.
// Its zero value is invalid (see IsZero).
type PrivateKey struct {
	k ed25519.PrivateKey
}

// GeneratePrivateKey makes a new identity key from the system's secure random
// source.
func GeneratePrivateKey() PrivateKey {
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand never fails
	}
	return PrivateKey{k: k}
}

// PrivateKeyFromSeed derives the identity key from its 32-byte RFC 8032 seed.
func PrivateKeyFromSeed(seed []byte) (PrivateKey, error) {
	if len(seed) != ed25519.SeedSize {
		return PrivateKey{}, fmt.Errorf("%w: seed is %d bytes, want %d", ErrKeySize, len(seed), ed25519.SeedSize)
	}
	return PrivateKey{k: ed25519.NewKeyFromSeed(seed)}, nil
}

// PrivateKeyFromLibp2p converts a libp2p private key, which must be Ed25519.
func PrivateKeyFromLibp2p(lk lcrypto.PrivKey) (PrivateKey, error) {
	if lk.Type() != lcrypto.Ed25519 {
		return PrivateKey{}, ErrKeyType
	}
	raw, err := lk.Raw() // seed ‖ public key
	if err != nil {
		return PrivateKey{}, fmt.Errorf("keys: %w", err)
	}
	if len(raw) != ed25519.PrivateKeySize {
		return PrivateKey{}, fmt.Errorf("%w: libp2p Ed25519 key is %d bytes", ErrKeySize, len(raw))
	}
	return PrivateKeyFromSeed(raw[:ed25519.SeedSize])
}

// IsZero reports whether sk is the zero value.
func (sk PrivateKey) IsZero() bool { return len(sk.k) == 0 }

// Seed returns the 32-byte RFC 8032 seed, for persisting the key.
func (sk PrivateKey) Seed() []byte { return sk.k.Seed() }

// Libp2p returns the key as a libp2p private key, for the libp2p host.
func (sk PrivateKey) Libp2p() lcrypto.PrivKey {
	lk, err := lcrypto.UnmarshalEd25519PrivateKey(sk.k)
	if err != nil {
		panic(err)
	}
	return lk
}

// Public returns the public key.
func (sk PrivateKey) Public() PublicKey {
	var pk PublicKey
	copy(pk[:], sk.k[ed25519.SeedSize:])
	return pk
}

// Sign signs msg in the given domain. The signed bytes are
// "backchannel" ‖ len(domain) ‖ domain ‖ msg, so that a signature made for one
// purpose never verifies for another.
func (sk PrivateKey) Sign(domain string, msg []byte) []byte {
	if sk.IsZero() {
		panic("keys: Sign with a zero PrivateKey")
	}
	return sign(sk.k, domainMessage(domain, msg))
}

// String names the key by its public half; it never prints secret bytes.
func (sk PrivateKey) String() string {
	if sk.IsZero() {
		return "keys.PrivateKey(zero)"
	}
	return "keys.PrivateKey(" + sk.Public().String() + ")"
}

// GoString is like String, so that %#v does not print secret bytes either.
func (sk PrivateKey) GoString() string { return sk.String() }

const signaturePrefix = "backchannel"

func domainMessage(domain string, msg []byte) []byte {
	if len(domain) == 0 || len(domain) > 255 {
		panic("keys: signature domain must be 1 to 255 bytes")
	}
	b := make([]byte, 0, len(signaturePrefix)+1+len(domain)+len(msg))
	b = append(b, signaturePrefix...)
	b = append(b, byte(len(domain)))
	b = append(b, domain...)
	return append(b, msg...)
}
