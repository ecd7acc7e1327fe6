// Package apitest provides Fake, an in-memory api.Backend for tests of the
// API, its client and the CLI: no network, no store, deterministic.
package apitest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// MaxText is the fake's limit on a message body, like the node's.
const MaxText = 16 << 10

// Fake is an in-memory backend. Its exported fields may be set before use;
// the rest is guarded by its mutex. Time starts at Now and moves one second
// per message sent, so outputs are reproducible.
type Fake struct {
	SelfInfo node.SelfInfo
	State    node.Status
	Now      time.Time
	// Safety returns the safety number for a peer; a fixed string by default.
	Safety func(p peer.ID) string

	mu       sync.Mutex
	contacts map[peer.ID]storage.Contact
	messages map[peer.ID][]storage.Message // oldest first
	nextID   byte
	subs     map[int]chan node.Event
	nextSub  int
	typing   map[peer.ID]bool
	rooms    map[room.ID]*fakeRoom
	nextRoom byte
	groups   map[group.ID]*fakeGroup
	// nextGroup and nextGroupMsg number the fake's groups and group messages.
	nextGroup    byte
	nextGroupMsg byte
}

// NewFake returns a Fake whose own peer ID is self.
func NewFake(self peer.ID) *Fake {
	return &Fake{
		SelfInfo: node.SelfInfo{
			PeerID: self,
			Addrs:  []string{"/ip4/127.0.0.1/tcp/4001"},
			Invite: "backchannel://invite/" + self.String(),
			Name:   "",
		},
		State: node.Status{
			PeerID: self, ConnectedPeers: 2, DHTMode: "server", RoutingTableSize: 2,
			Reachability: "private", ListenAddrs: []string{"/ip4/127.0.0.1/tcp/4001"},
		},
		Now:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		contacts: map[peer.ID]storage.Contact{},
		messages: map[peer.ID][]storage.Message{},
		subs:     map[int]chan node.Event{},
		typing:   map[peer.ID]bool{},
		rooms:    map[room.ID]*fakeRoom{},
		groups:   map[group.ID]*fakeGroup{},
	}
}

// AddStranger makes p a stranger who sent us text: a request.
func (f *Fake) AddStranger(p peer.ID, text string) storage.Message {
	f.mu.Lock()
	if _, ok := f.contacts[p]; !ok {
		f.contacts[p] = storage.Contact{Peer: p, State: storage.ContactUnknown, Created: f.Now, Updated: f.Now}
	}
	f.mu.Unlock()
	return f.Receive(p, text)
}

// Receive stores an inbound message from p (unread) and emits a "message" event.
func (f *Fake) Receive(p peer.ID, text string) storage.Message {
	f.mu.Lock()
	m := f.newMessage(p, storage.Inbound, "text", text, storage.MessageID{})
	m.Received = m.Sent
	m.State = storage.StateReceived
	f.messages[p] = append(f.messages[p], m)
	f.mu.Unlock()
	f.Emit(node.Event{Type: "message", Peer: p, Message: &m, Time: m.Sent})
	return m
}

// Emit sends e to every subscriber.
func (f *Fake) Emit(e node.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, ch := range f.subs {
		ch <- e
	}
}

// Subscribers returns how many subscriptions are open.
func (f *Fake) Subscribers() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.subs)
}

// IsTyping reports what Typing last set for p.
func (f *Fake) IsTyping(p peer.ID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.typing[p]
}

// Contact returns the fake's record of p.
func (f *Fake) Contact(p peer.ID) (storage.Contact, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	return c, ok
}

// newMessage makes a message with the next ID and time; f.mu is held.
func (f *Fake) newMessage(p peer.ID, d storage.Direction, kind, body string, replyTo storage.MessageID) storage.Message {
	f.nextID++
	f.Now = f.Now.Add(time.Second)
	var id storage.MessageID
	id[15] = f.nextID
	return storage.Message{ID: id, Peer: p, Direction: d, Kind: kind, Body: body, ReplyTo: replyTo, Sent: f.Now}
}

// Self implements api.Backend.
func (f *Fake) Self() node.SelfInfo {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.SelfInfo
}

// NewInvite implements api.Backend: the fake's invite, with a fixed token
// when oneTime.
func (f *Fake) NewInvite(oneTime bool) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if oneTime {
		return f.SelfInfo.Invite + "&token=00112233445566778899aabbccddeeff", nil
	}
	return f.SelfInfo.Invite, nil
}

// Status implements api.Backend.
func (f *Fake) Status() node.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.State
}

// SetProfileName implements api.Backend.
func (f *Fake) SetProfileName(name string) error {
	if len(name) > 64 {
		return fmt.Errorf("profile name: %w", node.ErrTooLarge)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.SelfInfo.Name = name
	return nil
}

// AddContact implements api.Backend: invite is a bare peer ID or
// "backchannel://invite/<peer ID>".
func (f *Fake) AddContact(ctx context.Context, invite string, name string) (storage.Contact, error) {
	p, err := peer.Decode(strings.TrimPrefix(invite, "backchannel://invite/"))
	if err != nil {
		return storage.Contact{}, fmt.Errorf("%w: %w", node.ErrInvalidInvite, err)
	}
	if p == f.SelfInfo.PeerID {
		return storage.Contact{}, node.ErrSelf
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if !ok {
		c = storage.Contact{Peer: p, Created: f.Now}
	}
	c.State = storage.ContactAccepted
	if name != "" {
		c.Name = name
	}
	c.Updated = f.Now
	f.contacts[p] = c
	return c, nil
}

// Contacts implements api.Backend: sorted by name, then peer.
func (f *Fake) Contacts() ([]storage.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []storage.Contact
	for _, c := range f.contacts {
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b storage.Contact) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Peer, b.Peer))
	})
	return out, nil
}

// Block implements api.Backend: like the node, it deletes the thread.
func (f *Fake) Block(p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if !ok {
		c = storage.Contact{Peer: p, Created: f.Now}
	}
	c.State = storage.ContactBlocked
	c.Updated = f.Now
	f.contacts[p] = c
	delete(f.messages, p)
	return nil
}

// Unblock implements api.Backend: like the node, it forgets a blocked
// peer, whose next message is a request again.
func (f *Fake) Unblock(p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if !ok {
		return fmt.Errorf("%w: %s", node.ErrUnknownPeer, p)
	}
	if c.State == storage.ContactBlocked {
		delete(f.contacts, p)
	}
	return nil
}

// SafetyNumber implements api.Backend.
func (f *Fake) SafetyNumber(p peer.ID) (string, error) {
	if _, ok := f.Contact(p); !ok {
		return "", fmt.Errorf("%w: %s", node.ErrUnknownPeer, p)
	}
	if f.Safety != nil {
		return f.Safety(p), nil
	}
	return "12345 67890 12345 67890 12345 67890 12345 67890 12345 67890 12345 67890", nil
}

// SetVerified implements api.Backend.
func (f *Fake) SetVerified(p peer.ID, verified bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if !ok {
		return fmt.Errorf("%w: %s", node.ErrUnknownPeer, p)
	}
	c.Verified = verified
	f.contacts[p] = c
	return nil
}

// Send implements api.Backend: the message is stored as "sent".
func (f *Fake) Send(ctx context.Context, to peer.ID, m node.Outgoing) (storage.Message, error) {
	if len(m.Body) > MaxText {
		return storage.Message{}, fmt.Errorf("message of %d bytes: %w", len(m.Body), node.ErrTooLarge)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if c := f.contacts[to]; c.State == storage.ContactBlocked {
		return storage.Message{}, fmt.Errorf("%s: %w", to, node.ErrBlocked)
	}
	if _, ok := f.contacts[to]; !ok {
		f.contacts[to] = storage.Contact{Peer: to, State: storage.ContactAccepted, Created: f.Now, Updated: f.Now}
	}
	msg := f.newMessage(to, storage.Outbound, cmp.Or(m.Kind, "text"), m.Body, m.ReplyTo)
	msg.State = storage.StateSent
	msg.Context = m.Context
	f.messages[to] = append(f.messages[to], msg)
	return msg, nil
}

func (f *Fake) conversations(want func(storage.ContactState) bool) []storage.Conversation {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []storage.Conversation
	for p, ms := range f.messages {
		if len(ms) == 0 || !want(f.contacts[p].State) {
			continue
		}
		c := storage.Conversation{Peer: p, Last: ms[len(ms)-1], Count: len(ms), Updated: ms[len(ms)-1].Sent}
		for _, m := range ms {
			if m.Direction == storage.Inbound && m.State == storage.StateReceived {
				c.Unread++
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b storage.Conversation) int { return b.Updated.Compare(a.Updated) })
	return out
}

// Inbox implements api.Backend: conversations with accepted contacts.
func (f *Fake) Inbox() ([]storage.Conversation, error) {
	return f.conversations(func(s storage.ContactState) bool { return s == storage.ContactAccepted }), nil
}

// Requests implements api.Backend: conversations with strangers.
func (f *Fake) Requests() ([]storage.Conversation, error) {
	return f.conversations(func(s storage.ContactState) bool { return s == storage.ContactUnknown }), nil
}

// Messages implements api.Backend: newest first.
func (f *Fake) Messages(p peer.ID, limit int, before time.Time) ([]storage.Message, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.contacts[p]; !ok {
		return nil, fmt.Errorf("%w: %s", node.ErrUnknownPeer, p)
	}
	var out []storage.Message
	ms := f.messages[p]
	for i := len(ms) - 1; i >= 0 && len(out) < limit; i-- {
		if before.IsZero() || ms[i].Sent.Before(before) {
			out = append(out, ms[i])
		}
	}
	return out, nil
}

// MarkRead implements api.Backend.
func (f *Fake) MarkRead(p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, m := range f.messages[p] {
		if m.Direction == storage.Inbound && m.State == storage.StateReceived {
			f.messages[p][i].State = storage.StateSeen
		}
	}
	return nil
}

// Typing implements api.Backend.
func (f *Fake) Typing(p peer.ID, typing bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.typing[p] = typing
	return nil
}

// Accept implements api.Backend.
func (f *Fake) Accept(ctx context.Context, p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if ok && c.State == storage.ContactBlocked {
		return fmt.Errorf("%w: unblock it first", node.ErrBlocked)
	}
	if !ok || c.State != storage.ContactUnknown {
		return fmt.Errorf("no request from %s: %w", p, node.ErrNotFound)
	}
	c.State = storage.ContactAccepted
	f.contacts[p] = c
	return nil
}

// Decline implements api.Backend: the stranger and the thread are forgotten.
func (f *Fake) Decline(p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if !ok || c.State != storage.ContactUnknown {
		return fmt.Errorf("no request from %s: %w", p, node.ErrNotFound)
	}
	delete(f.contacts, p)
	delete(f.messages, p)
	return nil
}

// Subscribe implements api.Backend. Events are buffered (64); Emit blocks
// when a subscriber's buffer is full, which tests do not reach.
func (f *Fake) Subscribe() (<-chan node.Event, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.nextSub
	f.nextSub++
	ch := make(chan node.Event, 64)
	f.subs[id] = ch
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			f.mu.Lock()
			defer f.mu.Unlock()
			delete(f.subs, id)
		})
	}
}
