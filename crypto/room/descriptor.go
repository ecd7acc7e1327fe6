package room

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/safename"
)

// Limits of a descriptor's text, in bytes of UTF-8.
const (
	MaxNameSize        = 64
	MaxDescriptionSize = 1024
)

// MaxDescriptorSize is the largest encoded descriptor.
const MaxDescriptorSize = MaxNameSize + MaxDescriptionSize + 512

const domainDescriptor = "room/descriptor/v1"

// Descriptor describes a room and proves who hosts it: Room must be
// DeriveID(Host, Nonce), and Host signs the whole. A host updates its room by
// signing a new descriptor with a later Created time.
type Descriptor struct {
	Room        ID
	Host        keys.PublicKey
	Nonce       Nonce
	Name        string    // 1 to MaxNameSize bytes of UTF-8, no control characters (crypto/safename)
	Description string    // up to MaxDescriptionSize bytes of UTF-8
	Start       time.Time // when the room is scheduled to start; zero if not scheduled
	Created     time.Time // when the host signed this descriptor
	Signature   [keys.SignatureSize]byte
}

// Sign sets d's Host to host's public key and Room to DeriveID(Host, Nonce),
// and signs d. The caller sets Nonce (see NewNonce; keep it to sign updates),
// Name, Description, Start and Created. Times are rounded to the millisecond.
// On error d is unchanged.
func (d *Descriptor) Sign(host keys.PrivateKey) error {
	if host.IsZero() {
		return fmt.Errorf("%w: sign descriptor: zero private key: %w", ErrInvalid, keys.ErrZeroKey)
	}
	s := *d
	s.Host = host.Public()
	if s.Nonce.IsZero() {
		return fmt.Errorf("%w: descriptor has a zero nonce", ErrInvalid)
	}
	s.Room = DeriveID(s.Host, s.Nonce)
	s.Start = roundMilli(s.Start)
	s.Created = roundMilli(s.Created)
	if err := s.check(); err != nil {
		return err
	}
	copy(s.Signature[:], host.Sign(domainDescriptor, s.signedBytes()))
	*d = s
	return nil
}

// Verify checks that d is well formed, that its Room is derived from its Host
// and Nonce, and that Host signed it. The caller checks that Room is the room
// it asked for.
func (d Descriptor) Verify() error {
	if err := d.check(); err != nil {
		return err
	}
	if DeriveID(d.Host, d.Nonce) != d.Room {
		return fmt.Errorf("%w: descriptor for room %s", ErrIDMismatch, d.Room)
	}
	if !d.Host.Verify(domainDescriptor, d.signedBytes(), d.Signature[:]) {
		return fmt.Errorf("%w: descriptor of room %s by host %s", ErrBadSignature, d.Room, d.Host)
	}
	return nil
}

// check checks every field but the signature and the ID's derivation.
func (d Descriptor) check() error {
	if d.Room.IsZero() {
		return fmt.Errorf("%w: descriptor has a zero room ID", ErrInvalid)
	}
	if d.Host.IsZero() {
		return fmt.Errorf("%w: descriptor has a zero host: %w", ErrInvalid, keys.ErrZeroKey)
	}
	if d.Nonce.IsZero() {
		return fmt.Errorf("%w: descriptor has a zero nonce", ErrInvalid)
	}
	if err := checkName(d.Name); err != nil {
		return err
	}
	if len(d.Description) > MaxDescriptionSize {
		return fmt.Errorf("%w: room description is %d bytes, max %d", ErrTooLarge, len(d.Description), MaxDescriptionSize)
	}
	if !utf8.ValidString(d.Description) {
		return fmt.Errorf("%w: room description is not UTF-8", ErrInvalid)
	}
	if !d.Start.IsZero() {
		if err := checkTime("room start", d.Start); err != nil {
			return err
		}
	}
	return checkTime("descriptor creation time", d.Created)
}

// checkName checks a room name: it is shown in lists and searched for, so it
// must be non-empty, short, and follow crypto/safename's rule (UTF-8, no control
// character, no bidirectional control).
func checkName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty room name", ErrInvalid)
	case len(name) > MaxNameSize:
		return fmt.Errorf("%w: room name is %d bytes, max %d", ErrTooLarge, len(name), MaxNameSize)
	}
	if err := safename.Check(name); err != nil {
		return fmt.Errorf("%w: room %w", ErrInvalid, err)
	}
	return nil
}

func (d Descriptor) signedBytes() []byte {
	var b canon.Builder
	return b.Fixed(d.Room[:]).
		Fixed(d.Host[:]).
		Fixed(d.Nonce[:]).
		String(d.Name).
		String(d.Description).
		Int64(unixMilli(d.Start)).
		Int64(unixMilli(d.Created)).
		Build()
}
