package storage

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// MessageID identifies a 1:1 message; the sender picks it at random.
type MessageID [16]byte

// IsZero reports whether id is the zero ID, which no message has.
func (id MessageID) IsZero() bool { return id == MessageID{} }

// String returns id in lower-case hex.
func (id MessageID) String() string { return hex.EncodeToString(id[:]) }

// ParseMessageID parses the hex form returned by String.
func ParseMessageID(s string) (MessageID, error) {
	var id MessageID
	if hex.DecodedLen(len(s)) != len(id) {
		return MessageID{}, fmt.Errorf("storage: message ID %q: %w: want %d hex digits", s, ErrInvalid, 2*len(id))
	}
	if _, err := hex.Decode(id[:], []byte(s)); err != nil {
		return MessageID{}, fmt.Errorf("storage: message ID %q: %w: %w", s, ErrInvalid, err)
	}
	return id, nil
}

// Direction says who wrote a message.
type Direction uint8

const (
	// Inbound messages were written by the peer.
	Inbound Direction = iota
	// Outbound messages were written by us.
	Outbound
)

// String returns "inbound" or "outbound".
func (d Direction) String() string {
	switch d {
	case Inbound:
		return "inbound"
	case Outbound:
		return "outbound"
	}
	return fmt.Sprintf("Direction(%d)", uint8(d))
}

// MessageState is where a message is in its life. Outbound messages go
// queued → sent → in mailbox → delivered → read, or queued/sent → failed
// (given up after the outbox's time limit, or cancelled by the user; a
// delivery or read receipt that still comes moves it on); inbound ones
// received → seen. States are stored as numbers, so a new state is appended whatever its
// place in the life: compare states with [MessageState.Rank] or
// [MessageState.Before], never as numbers.
type MessageState uint8

const (
	// StateQueued: outbound, stored, not yet sent.
	StateQueued MessageState = iota
	// StateSent: outbound, written to the peer's stream.
	StateSent
	// StateDelivered: outbound, acked by the peer after its commit.
	StateDelivered
	// StateRead: outbound, the peer sent a read receipt.
	StateRead
	// StateReceived: inbound, not yet seen by the user (counts as unread).
	StateReceived
	// StateSeen: inbound, seen by the user.
	StateSeen
	// StateInMailbox: outbound, deposited in the peer's mailbox (between
	// sent and delivered): a node holds it until the peer drains it.
	StateInMailbox
	// StateFailed: outbound, no longer tried: the outbox gave up on it
	// (too old) or the user cancelled it.
	StateFailed
)

// Rank is s's place in its direction's life: queued 0, sent 1, failed 2,
// in mailbox 3, delivered 4, read 5; received 6, seen 7. A state this build
// does not know has rank -1.
func (s MessageState) Rank() int {
	switch s {
	case StateQueued:
		return 0
	case StateSent:
		return 1
	case StateFailed:
		return 2
	case StateInMailbox:
		return 3
	case StateDelivered:
		return 4
	case StateRead:
		return 5
	case StateReceived:
		return 6
	case StateSeen:
		return 7
	}
	return -1
}

// Before reports whether s comes before o in a message's life.
func (s MessageState) Before(o MessageState) bool { return s.Rank() < o.Rank() }

// String returns the state's lower-case name.
func (s MessageState) String() string {
	switch s {
	case StateQueued:
		return "queued"
	case StateSent:
		return "sent"
	case StateDelivered:
		return "delivered"
	case StateRead:
		return "read"
	case StateReceived:
		return "received"
	case StateSeen:
		return "seen"
	case StateInMailbox:
		return "in_mailbox"
	case StateFailed:
		return "failed"
	}
	return fmt.Sprintf("MessageState(%d)", uint8(s))
}

// validFor reports whether s is a state a message going in direction d can be in.
func (s MessageState) validFor(d Direction) bool {
	switch d {
	case Inbound:
		return s == StateReceived || s == StateSeen
	case Outbound:
		switch s {
		case StateQueued, StateSent, StateInMailbox, StateDelivered, StateRead, StateFailed:
			return true
		}
	}
	return false
}

// Message is one 1:1 message. Each peer has one conversation, ordered by
// (Sent, ID).
type Message struct {
	ID        MessageID
	Peer      peer.ID // the conversation
	Direction Direction
	Kind      string // "text", "reaction", "reply", ... (the node decides)
	Body      string
	ReplyTo   MessageID // zero if none
	Sent      time.Time // sender's timestamp (ordering key)
	Received  time.Time // zero for outbound
	State     MessageState
	Context   string // where the sender wrote from, e.g. "room:<id>"; empty if nowhere in particular
}

// unread reports whether m counts as unread in its conversation.
func (m Message) unread() bool {
	return m.Direction == Inbound && m.State == StateReceived
}

// activity is the time m made its conversation active: when we received it,
// or when we sent it. The receive time is ours, so a peer's clock cannot
// push its conversation to the top.
func (m Message) activity() time.Time {
	if !m.Received.IsZero() {
		return m.Received
	}
	return m.Sent
}
