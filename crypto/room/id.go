package room

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/keys"
)

// IDSize is the size of a room ID.
const IDSize = 32

// NonceSize is the size of the random nonce that, with the host's key, makes
// a room ID. 128 random bits keep a host's rooms apart with no state.
const NonceSize = 16

const labelID = "backchannel/room/id/v1"

// idEncoding is lowercase RFC 4648 base32 without padding: 52 characters for
// an ID, safe in topic names, URLs and DHT keys, and easy to read aloud.
var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// idTextSize is the length of an ID's String form.
var idTextSize = idEncoding.EncodedLen(IDSize)

// ID identifies a room: SHA-256 over a label, the host's key and a nonce (see
// DeriveID). Its zero value is invalid (see IsZero). It is comparable and may
// be used as a map key.
type ID [IDSize]byte

// Nonce is the random value that, with the host's key, derives a room ID. Its
// zero value is invalid (see IsZero).
type Nonce [NonceSize]byte

// NewNonce returns a random nonce from the system's secure random source.
func NewNonce() Nonce {
	var n Nonce
	rand.Read(n[:]) // never fails
	return n
}

// DeriveID returns the room ID of a host key and nonce:
// SHA-256(label ‖ host ‖ nonce), with the label length-prefixed. Anyone can
// check that a room belongs to its host; finding another host and nonce for
// the same ID would take a SHA-256 second preimage.
func DeriveID(host keys.PublicKey, nonce Nonce) ID {
	var b canon.Builder
	return ID(sha256.Sum256(b.String(labelID).Fixed(host[:]).Fixed(nonce[:]).Build()))
}

// NewID makes the ID of a new room of host, with a fresh random nonce. The
// host keeps the nonce and puts it in the room's Descriptor.
func NewID(host keys.PublicKey) (ID, Nonce, error) {
	if host.IsZero() {
		return ID{}, Nonce{}, fmt.Errorf("%w: zero host key: %w", ErrInvalid, keys.ErrZeroKey)
	}
	n := NewNonce()
	return DeriveID(host, n), n, nil
}

// IDFromBytes decodes a 32-byte room ID.
func IDFromBytes(b []byte) (ID, error) {
	var id ID
	if len(b) != IDSize {
		return id, fmt.Errorf("%w: %d bytes, want %d", ErrBadID, len(b), IDSize)
	}
	copy(id[:], b)
	if id.IsZero() {
		return ID{}, fmt.Errorf("%w: zero ID", ErrBadID)
	}
	return id, nil
}

// ParseID decodes a room ID from its String form. It accepts upper case too,
// but nothing else that String would not print.
func ParseID(s string) (ID, error) {
	if len(s) != idTextSize {
		return ID{}, fmt.Errorf("%w: %d characters, want %d", ErrBadID, len(s), idTextSize)
	}
	s = strings.ToLower(s)
	b, err := idEncoding.DecodeString(s)
	if err != nil {
		return ID{}, fmt.Errorf("%w: %q: %w", ErrBadID, s, err)
	}
	id, err := IDFromBytes(b)
	if err != nil {
		return ID{}, err
	}
	// The last character carries unused bits; only one spelling is the ID.
	if id.String() != s {
		return ID{}, fmt.Errorf("%w: %q is not canonical", ErrBadID, s)
	}
	return id, nil
}

// IsZero reports whether id is the zero value.
func (id ID) IsZero() bool { return id == ID{} }

// Bytes returns a copy of the ID.
func (id ID) Bytes() []byte { return append([]byte(nil), id[:]...) }

// String returns the ID in lowercase unpadded base32 (52 characters), the
// form used in topic names and links.
func (id ID) String() string { return idEncoding.EncodeToString(id[:]) }

// MarshalText encodes the ID as String does, for JSON and other text formats.
func (id ID) MarshalText() ([]byte, error) {
	if id.IsZero() {
		return nil, fmt.Errorf("%w: zero ID", ErrBadID)
	}
	return []byte(id.String()), nil
}

// UnmarshalText decodes an ID as ParseID does.
func (id *ID) UnmarshalText(text []byte) error {
	v, err := ParseID(string(text))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// IsZero reports whether n is the zero value.
func (n Nonce) IsZero() bool { return n == Nonce{} }

// String returns the nonce in hex; nonces are public.
func (n Nonce) String() string { return hex.EncodeToString(n[:]) }
