// Package apitest provides Fake, an in-memory implementation of api's
// backend interfaces for tests of the API, its client and the CLI: no
// network, no store, deterministic. It speaks api's types and errors.
package apitest

import (
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/room"
)

// MaxText is the fake's limit on a message body, like the node's.
const MaxText = 16 << 10

// Fake is an in-memory backend. Its exported fields may be set before use;
// the rest is guarded by its mutex. Time starts at Now and moves one second
// per message sent, so outputs are reproducible.
type Fake struct {
	SelfInfo api.Self
	State    api.Status
	Now      time.Time
	// Safety returns the safety number for a peer; a fixed string by default.
	Safety func(p peer.ID) string

	self     peer.ID
	mu       sync.Mutex
	contacts map[peer.ID]api.Contact
	messages map[peer.ID][]api.Message // oldest first
	nextID   byte
	subs     map[int]chan api.Event
	nextSub  int
	typing   map[peer.ID]bool
	rooms    map[room.ID]*fakeRoom
	nextRoom byte
	groups   map[group.ID]*fakeGroup
	// nextGroup and nextGroupMsg number the fake's groups and group messages.
	nextGroup    byte
	nextGroupMsg byte
	mb           fakeMailboxes
	sendKeys     map[string]api.Message // peer ID + "/" + key: idempotent sends
}

// NewFake returns a Fake whose own peer ID is self.
func NewFake(self peer.ID) *Fake {
	addrs := []string{"/ip4/127.0.0.1/tcp/4001"}
	return &Fake{
		SelfInfo: api.Self{PeerID: self.String(), Addrs: addrs, Invite: "backchannel://invite/" + self.String()},
		State: api.Status{
			PeerID: self.String(), ConnectedPeers: 2, DHTMode: "server", RoutingTableSize: 2,
			Reachability: "private", ListenAddrs: addrs, ObservedAddrs: []string{}, Relays: []string{}, Links: []api.Link{},
			Topics: []api.TopicStatus{},
		},
		Now:      time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		self:     self,
		contacts: map[peer.ID]api.Contact{},
		messages: map[peer.ID][]api.Message{},
		subs:     map[int]chan api.Event{},
		typing:   map[peer.ID]bool{},
		rooms:    map[room.ID]*fakeRoom{},
		groups:   map[group.ID]*fakeGroup{},
	}
}

// Backend returns the api.Backend the fake serves: itself, for every
// concern.
func (f *Fake) Backend() api.Backend {
	return api.Backend{Identity: f, Contacts: f, Chats: f, Rooms: f, Groups: f, Mailboxes: f, Events: f}
}

// at is t as the API's JSON holds it.
func at(t time.Time) *time.Time {
	u := t.UTC()
	return &u
}

// tick moves the fake's clock one second on and returns it; f.mu is held.
func (f *Fake) tick() time.Time {
	f.Now = f.Now.Add(time.Second)
	return f.Now
}

// Emit sends e to every subscriber.
func (f *Fake) Emit(e api.Event) {
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

// Subscribe implements api.EventBackend. Events are buffered (64); Emit
// blocks when a subscriber's buffer is full, which tests do not reach.
func (f *Fake) Subscribe() (<-chan api.Event, func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	id := f.nextSub
	f.nextSub++
	ch := make(chan api.Event, 64)
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

// Self implements api.IdentityBackend.
func (f *Fake) Self() api.Self {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.SelfInfo
}

// NewInvite implements api.IdentityBackend: the fake's invite, with a
// fixed token when oneTime.
func (f *Fake) NewInvite(oneTime bool) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if oneTime {
		return f.SelfInfo.Invite + "&token=00112233445566778899aabbccddeeff", nil
	}
	return f.SelfInfo.Invite, nil
}

// Status implements api.IdentityBackend.
func (f *Fake) Status() api.Status {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.State
}

// SetProfileName implements api.IdentityBackend.
func (f *Fake) SetProfileName(name string) error {
	if len(name) > 64 {
		return fmt.Errorf("profile name: %w", api.ErrTooLarge)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.SelfInfo.Name = name
	return nil
}
