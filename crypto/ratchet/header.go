package ratchet

import (
	"encoding/binary"
	"fmt"

	"github.com/backchannel/backchannel/crypto/keys"
)

const (
	headerVersion = 1
	// HeaderSize is the size of an encoded header: version, ratchet public
	// key, previous chain length, message number.
	HeaderSize = 1 + keys.DHKeySize + 4 + 4
)

// Header travels in clear with each message and is authenticated with it.
type Header struct {
	// DH is the sender's current ratchet public key.
	DH keys.DHPublic
	// PN is the number of messages in the sender's previous sending chain.
	PN uint32
	// N is this message's number in the current sending chain.
	N uint32
}

// MarshalBinary encodes the header in its fixed 41-byte form.
func (h Header) MarshalBinary() ([]byte, error) { return h.appendTo(nil), nil }

func (h Header) appendTo(b []byte) []byte {
	b = append(b, headerVersion)
	b = append(b, h.DH[:]...)
	b = binary.BigEndian.AppendUint32(b, h.PN)
	return binary.BigEndian.AppendUint32(b, h.N)
}

// UnmarshalHeader decodes a header.
func UnmarshalHeader(b []byte) (Header, error) {
	if len(b) != HeaderSize {
		return Header{}, fmt.Errorf("%w: header is %d bytes, want %d", ErrMalformed, len(b), HeaderSize)
	}
	if b[0] != headerVersion {
		return Header{}, fmt.Errorf("%w: header version %d", ErrMalformed, b[0])
	}
	dh, err := keys.DHPublicFromBytes(b[1 : 1+keys.DHKeySize])
	if err != nil {
		return Header{}, fmt.Errorf("%w: header: %w", ErrMalformed, err)
	}
	rest := b[1+keys.DHKeySize:]
	return Header{DH: dh, PN: binary.BigEndian.Uint32(rest), N: binary.BigEndian.Uint32(rest[4:])}, nil
}
