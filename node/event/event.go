// Package event is the node's event bus: services publish what happened
// (a message stored, a contact changed, a room line applied, a group epoch
// begun) and subscribers (the API's event stream, tests, the bench) read it.
// A subscriber that falls behind misses events; it never blocks a service.
package event

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/storage"
)

// Event types of 1:1 chats and contacts.
const (
	Message      = "message"       // a message was stored (inbound or outbound)
	MessageState = "message_state" // an outbound message changed state
	Request      = "request"       // a stranger's message landed in requests
	Contact      = "contact"       // a contact was added or changed
	Typing       = "typing"        // an accepted contact is (not) typing
)

// Event types of live rooms.
const (
	RoomMessage = "room_message" // a room message was applied (and is stored, or about to be)
)

// Event types of private groups.
const (
	GroupMessage = "group_message" // a group message, reaction or RSVP was stored
	GroupInvite  = "group_invite"  // an invitation to a group arrived
	GroupMember  = "group_member"  // a group's roster changed (members, roles), or our state in it
	GroupEpoch   = "group_epoch"   // this node holds the key of a new epoch of a group
	GroupReceipt = "group_receipt" // a member told how far it has received and read
)

// Event tells subscribers (the UI, the CLI) that something happened.
type Event struct {
	Type    string
	Peer    peer.ID
	Message *storage.Message
	Contact *storage.Contact
	Room    *Room
	Group   *Group
	Typing  bool
	Time    time.Time
}

// Room names the room message an event is about.
type Room struct {
	Room room.ID
	ID   room.MessageID
	Kind room.Kind
}

// Group names the group (and message, epoch or member) an event is about.
type Group struct {
	Group   group.ID
	Epoch   uint64
	Message [32]byte // zero unless the event is about a message
	Kind    string   // the message's kind
	Member  peer.ID  // the member a receipt or a roster change is about, if one
	State   string   // our state in the group after a member event
}

// buffer is how many events a slow subscriber may fall behind before it
// misses some (it is never allowed to block the node).
const buffer = 256

// Bus fans events out to subscribers. The zero value is not usable: use
// NewBus.
type Bus struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

// NewBus returns a bus with no subscribers.
func NewBus() *Bus { return &Bus{subs: map[chan Event]struct{}{}} }

// Publish hands e to every subscriber that has room for it, stamping its
// time if it has none.
func (b *Bus) Publish(e Event) {
	if e.Time.IsZero() {
		e.Time = time.Now()
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default: // slow subscriber: drop rather than block the node
		}
	}
}

// Subscribe returns a channel of events and a function that ends the
// subscription (safe to call more than once).
func (b *Bus) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, buffer)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	}
}

// CloseAll ends every subscription: the node is closing.
func (b *Bus) CloseAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}
