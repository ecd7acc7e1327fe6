package room

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/keys"
)

// MaxBody is the largest message body. 4 KiB holds a long chat line or
// question (over 1000 characters of any script) and every control kind with
// room to spare (a role grant is under 200 bytes), while it keeps what one
// signed message can make every peer of a big room relay and hash small.
const MaxBody = 4096

// MaxMessageSize is the largest encoded message: MaxBody plus room for the
// other fields. A validator may drop longer data without decoding it.
const MaxMessageSize = MaxBody + 256

const (
	domainMessage  = "room/message/v1"
	labelMessageID = "backchannel/room/message-id/v1"
	labelRawID     = "backchannel/room/raw-message-id/v1"
)

// Message is one signed message of a public room. Body is kind-specific and
// opaque here. Sign fills Sender and Signature; Verify checks them against
// the room the message arrived in.
type Message struct {
	Room      ID
	Kind      Kind
	Sender    keys.PublicKey
	Seq       uint64 // per sender and room, from 1
	Timestamp time.Time
	Body      []byte
	Signature [keys.SignatureSize]byte
}

// Sign sets m's Sender to sender's public key and signs m. The signature
// covers, in canonical form, the room, kind, sender, sequence number,
// timestamp (to the millisecond, which Sign rounds to) and body. On error m is
// unchanged.
func (m *Message) Sign(sender keys.PrivateKey) error {
	if sender.IsZero() {
		return fmt.Errorf("%w: sign message: zero private key: %w", ErrInvalid, keys.ErrZeroKey)
	}
	s := *m
	s.Sender = sender.Public()
	s.Timestamp = roundMilli(s.Timestamp)
	if err := s.check(); err != nil {
		return err
	}
	copy(s.Signature[:], sender.Sign(domainMessage, s.signedBytes()))
	*m = s
	return nil
}

// Verify checks that m is well formed, is bound to room (ErrWrongRoom if it
// was replayed from another one) and is signed by its Sender. It does not
// judge the timestamp or the sequence number, nor whether the sender may send
// this kind: that takes the room's state.
func (m Message) Verify(room ID) error {
	if err := m.check(); err != nil {
		return err
	}
	if m.Room != room {
		return fmt.Errorf("%w: message is for room %s, not %s", ErrWrongRoom, m.Room, room)
	}
	if !m.Sender.Verify(domainMessage, m.signedBytes(), m.Signature[:]) {
		return fmt.Errorf("%w: %s message %d from %s", ErrBadSignature, m.Kind, m.Seq, m.Sender)
	}
	return nil
}

// check checks every field but the signature.
func (m Message) check() error {
	if m.Room.IsZero() {
		return fmt.Errorf("%w: message has a zero room ID", ErrInvalid)
	}
	if !m.Kind.Valid() {
		return fmt.Errorf("%w: %s", ErrUnknownKind, m.Kind)
	}
	if m.Sender.IsZero() {
		return fmt.Errorf("%w: message has a zero sender: %w", ErrInvalid, keys.ErrZeroKey)
	}
	if m.Seq == 0 {
		return fmt.Errorf("%w: message sequence number is 0; it starts at 1", ErrInvalid)
	}
	if err := checkTime("message timestamp", m.Timestamp); err != nil {
		return err
	}
	if len(m.Body) > MaxBody {
		return fmt.Errorf("%w: message body is %d bytes, max %d", ErrTooLarge, len(m.Body), MaxBody)
	}
	return nil
}

func (m Message) signedBytes() []byte {
	var b canon.Builder
	return b.Fixed(m.Room[:]).
		Uint64(uint64(m.Kind)).
		Fixed(m.Sender[:]).
		Uint64(m.Seq).
		Int64(unixMilli(m.Timestamp)).
		Bytes(m.Body).
		Build()
}

// MessageID names a message by its content, for deduplication: as the
// GossipSub message ID, and as the target of upvotes, reactions, pins and
// hides.
type MessageID [sha256.Size]byte

// ID returns m's MessageID: SHA-256 over a label, the signed bytes and the
// signature. It does not depend on how m was encoded, so a relay cannot give
// a message a fresh ID by re-encoding it. It covers the signature so that a
// copy with a corrupted signature has another ID: if it shared the real
// message's ID, a relay that raced it ahead could have the real one dropped
// as already seen. (Ed25519 signatures as Go verifies them are not malleable,
// so only the sender could make a second valid copy.)
func (m Message) ID() MessageID {
	var b canon.Builder
	return sha256.Sum256(b.String(labelMessageID).Bytes(m.signedBytes()).Fixed(m.Signature[:]).Build())
}

// WireMessageID returns the MessageID of an encoded message, for GossipSub's
// message ID function, which runs before validation. Data that does not
// decode gets a hash of its raw bytes under another label; the validator
// rejects it anyway.
func WireMessageID(data []byte) MessageID {
	m, err := UnmarshalMessage(data)
	if err != nil {
		var b canon.Builder
		return sha256.Sum256(b.String(labelRawID).Bytes(data).Build())
	}
	return m.ID()
}

// String returns the ID in hex.
func (id MessageID) String() string { return hex.EncodeToString(id[:]) }
