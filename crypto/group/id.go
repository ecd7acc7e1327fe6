package group

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// IDSize is the size of a group ID.
const IDSize = 32

// SecretSize is the size of a group secret.
const SecretSize = 32

// TopicPrefix starts the name of every group's GossipSub topic.
const TopicPrefix = "/backchannel/g/"

const labelTopic = "backchannel/group/topic/v1"

// ID is a group's random, public identifier. Its zero value is invalid (see
// IsZero). It is comparable and may be used as a map key.
type ID [IDSize]byte

// IDFromBytes decodes a 32-byte group ID.
func IDFromBytes(b []byte) (ID, error) {
	var id ID
	if len(b) != IDSize {
		return id, fmt.Errorf("%w: group ID is %d bytes, want %d", ErrMalformed, len(b), IDSize)
	}
	copy(id[:], b)
	if id.IsZero() {
		return ID{}, fmt.Errorf("%w: zero group ID", ErrMalformed)
	}
	return id, nil
}

// ParseID decodes a group ID from its String form.
func ParseID(s string) (ID, error) {
	b, err := hex.DecodeString(s)
	if err != nil {
		return ID{}, fmt.Errorf("%w: group ID: %w", ErrMalformed, err)
	}
	return IDFromBytes(b)
}

// IsZero reports whether id is the zero value.
func (id ID) IsZero() bool { return id == ID{} }

// Bytes returns a copy of the ID.
func (id ID) Bytes() []byte { return append([]byte(nil), id[:]...) }

// String returns the ID in lowercase hex; group IDs are not secret.
func (id ID) String() string { return hex.EncodeToString(id[:]) }

// Secret is a group's random secret, known to its members. It names the
// group's topic. Its zero value is invalid (see IsZero); it never prints.
type Secret struct {
	k [SecretSize]byte
}

// NewGroup makes a new random group ID and secret.
func NewGroup() (ID, Secret) {
	var id ID
	var s Secret
	rand.Read(id[:]) // never fails
	rand.Read(s.k[:])
	return id, s
}

// UnmarshalSecret decodes a secret encoded by Secret.MarshalBinary.
func UnmarshalSecret(b []byte) (Secret, error) {
	var s Secret
	if len(b) != SecretSize {
		return s, fmt.Errorf("%w: group secret is %d bytes, want %d", ErrMalformed, len(b), SecretSize)
	}
	copy(s.k[:], b)
	if s.IsZero() {
		return Secret{}, fmt.Errorf("%w: zero group secret", ErrMalformed)
	}
	return s, nil
}

// MarshalBinary encodes the secret (its 32 bytes), for a group invite sent
// over an end-to-end session and for the store. Handle with care.
func (s Secret) MarshalBinary() ([]byte, error) {
	if s.IsZero() {
		return nil, fmt.Errorf("%w: zero group secret", ErrMalformed)
	}
	return append([]byte(nil), s.k[:]...), nil
}

// IsZero reports whether s is the zero value.
func (s Secret) IsZero() bool { return s == Secret{} }

// Equal reports whether two secrets are the same, in constant time.
func (s Secret) Equal(other Secret) bool { return hmac.Equal(s.k[:], other.k[:]) }

// Topic returns the group's GossipSub topic: TopicPrefix followed by the hex
// of HMAC-SHA256(secret, label). Only holders of the secret can compute it,
// and it reveals neither the secret nor the group ID. It panics on the zero
// Secret, which is never a real one.
func (s Secret) Topic() string {
	if s.IsZero() {
		panic("group: Topic of a zero Secret")
	}
	h := hmac.New(sha256.New, s.k[:])
	h.Write([]byte(labelTopic))
	return TopicPrefix + hex.EncodeToString(h.Sum(nil))
}

// String never prints the secret.
func (s Secret) String() string {
	if s.IsZero() {
		return "group.Secret(zero)"
	}
	return "group.Secret(redacted)"
}

// GoString is like String, so that %#v does not print the secret either.
func (s Secret) GoString() string { return s.String() }
