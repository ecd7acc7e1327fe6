package ratchet

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/internal/aead"
	"github.com/backchannel/backchannel/crypto/internal/sessionpb"
	"github.com/backchannel/backchannel/crypto/x3dh"
)

const messageVersion = 1

// MaxPlaintext bounds what one message may carry.
const MaxPlaintext = 64 << 10

// MaxMessageSize bounds an encoded message: the plaintext limit plus room for
// the header, the X3DH header and the authentication tag.
const MaxMessageSize = MaxPlaintext + aead.Overhead + 1024

// Message is one encrypted 1:1 message.
type Message struct {
	// X3DH is set on the initiator's messages until it hears back, so the
	// responder can start the session from any of them.
	X3DH       *x3dh.Header
	Header     Header
	Ciphertext []byte
}

// MarshalBinary encodes the message for the wire.
func (m Message) MarshalBinary() ([]byte, error) {
	pm := &sessionpb.RatchetMessage{
		Version:    messageVersion,
		Header:     m.Header.appendTo(make([]byte, 0, HeaderSize)),
		Ciphertext: m.Ciphertext,
	}
	if m.X3DH != nil {
		pm.X3Dh = m.X3DH.ToProto()
	}
	return proto.Marshal(pm)
}

// UnmarshalMessage decodes a message. It checks form and size only; Decrypt
// authenticates it.
func UnmarshalMessage(b []byte) (Message, error) {
	if len(b) > MaxMessageSize {
		return Message{}, fmt.Errorf("%w: message of %d bytes exceeds %d", ErrTooLarge, len(b), MaxMessageSize)
	}
	var pm sessionpb.RatchetMessage
	if err := proto.Unmarshal(b, &pm); err != nil {
		return Message{}, fmt.Errorf("%w: message: %w", ErrMalformed, err)
	}
	if pm.Version != messageVersion {
		return Message{}, fmt.Errorf("%w: message version %d", ErrMalformed, pm.Version)
	}
	h, err := UnmarshalHeader(pm.Header)
	if err != nil {
		return Message{}, err
	}
	if len(pm.Ciphertext) < aead.Overhead {
		return Message{}, fmt.Errorf("%w: ciphertext of %d bytes", ErrMalformed, len(pm.Ciphertext))
	}
	m := Message{Header: h, Ciphertext: pm.Ciphertext}
	if pm.X3Dh != nil {
		xh, err := x3dh.HeaderFromProto(pm.X3Dh)
		if err != nil {
			return Message{}, fmt.Errorf("%w: %w", ErrMalformed, err)
		}
		m.X3DH = &xh
	}
	return m, nil
}
