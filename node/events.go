package node

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

// Event types.
const (
	EventMessage      = "message"       // a message was stored (inbound or outbound)
	EventMessageState = "message_state" // an outbound message changed state
	EventRequest      = "request"       // a stranger's message landed in requests
	EventContact      = "contact"       // a contact was added or changed
	EventTyping       = "typing"        // an accepted contact is (not) typing
)

// Event types of private groups.
const (
	EventGroupMessage = "group_message" // a group message, reaction or RSVP was stored
	EventGroupInvite  = "group_invite"  // an invitation to a group arrived
	EventGroupMember  = "group_member"  // a group's roster changed (members, roles), or our state in it
	EventGroupEpoch   = "group_epoch"   // this node holds the key of a new epoch of a group
	EventGroupReceipt = "group_receipt" // a member told how far it has received and read
)

// Event tells subscribers (the UI, the CLI) that something happened.
type Event struct {
	Type    string
	Peer    peer.ID
	Message *storage.Message
	Contact *storage.Contact
	Room    *RoomEvent
	Group   *GroupEvent
	Typing  bool
	Time    time.Time
}

// eventBuffer is how many events a slow subscriber may fall behind before
// it misses some (it is never allowed to block the node).
const eventBuffer = 256

type bus struct {
	mu   sync.Mutex
	subs map[chan Event]struct{}
}

func newBus() *bus { return &bus{subs: map[chan Event]struct{}{}} }

func (b *bus) publish(e Event) {
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

func (b *bus) subscribe() (<-chan Event, func()) {
	ch := make(chan Event, eventBuffer)
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

func (b *bus) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}
