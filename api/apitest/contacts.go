package apitest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
)

// A contact's states, as api.Contact has them.
const (
	stateUnknown  = "pending"
	stateAccepted = "accepted"
	stateBlocked  = "blocked"
)

// AddStranger makes p a stranger who sent us text: a request.
func (f *Fake) AddStranger(p peer.ID, text string) api.Message {
	f.mu.Lock()
	if _, ok := f.contacts[p]; !ok {
		f.contacts[p] = f.newContactLocked(p, stateUnknown)
	}
	f.mu.Unlock()
	return f.Receive(p, text)
}

// Contact returns the fake's record of p.
func (f *Fake) Contact(p peer.ID) (api.Contact, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	return c, ok
}

// newContactLocked makes a contact record for p, created now; f.mu is held.
func (f *Fake) newContactLocked(p peer.ID, state string) api.Contact {
	return api.Contact{PeerID: p.String(), State: state, Addrs: []string{}, Created: at(f.Now), Updated: at(f.Now)}
}

// AddContact implements api.ContactBackend: invite is a bare peer ID or
// "backchannel://invite/<peer ID>".
func (f *Fake) AddContact(ctx context.Context, invite string, name string) (api.Contact, error) {
	p, err := peer.Decode(strings.TrimPrefix(invite, "backchannel://invite/"))
	if err != nil {
		return api.Contact{}, fmt.Errorf("%w: %w", api.ErrInvalidInvite, err)
	}
	if p == f.self {
		return api.Contact{}, fmt.Errorf("%w: that is this node", api.ErrInvalid)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if !ok {
		c = f.newContactLocked(p, stateAccepted)
	}
	c.State = stateAccepted
	if name != "" {
		c.Name = name
	}
	c.Updated = at(f.Now)
	f.contacts[p] = c
	return c, nil
}

// Contacts implements api.ContactBackend: sorted by name, then peer.
func (f *Fake) Contacts() ([]api.Contact, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ps := make([]peer.ID, 0, len(f.contacts))
	for p := range f.contacts {
		ps = append(ps, p)
	}
	slices.SortFunc(ps, func(a, b peer.ID) int {
		return cmp.Or(cmp.Compare(f.contacts[a].Name, f.contacts[b].Name), cmp.Compare(a, b))
	})
	out := make([]api.Contact, 0, len(ps))
	for _, p := range ps {
		out = append(out, f.contacts[p])
	}
	return out, nil
}

// Block implements api.ContactBackend: like the node, it deletes the
// thread.
func (f *Fake) Block(p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if !ok {
		c = f.newContactLocked(p, stateBlocked)
	}
	c.State = stateBlocked
	c.Updated = at(f.Now)
	f.contacts[p] = c
	delete(f.messages, p)
	return nil
}

// Unblock implements api.ContactBackend: like the node, it forgets a
// blocked peer, whose next message is a request again.
func (f *Fake) Unblock(p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if !ok {
		return fmt.Errorf("%w: %s", api.ErrUnknownPeer, p)
	}
	if c.State == stateBlocked {
		delete(f.contacts, p)
	}
	return nil
}

// SafetyNumber implements api.ContactBackend.
func (f *Fake) SafetyNumber(p peer.ID) (string, error) {
	if _, ok := f.Contact(p); !ok {
		return "", fmt.Errorf("%w: %s", api.ErrUnknownPeer, p)
	}
	if f.Safety != nil {
		return f.Safety(p), nil
	}
	return "12345 67890 12345 67890 12345 67890 12345 67890 12345 67890 12345 67890", nil
}

// SetVerified implements api.ContactBackend.
func (f *Fake) SetVerified(p peer.ID, verified bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.contacts[p]
	if !ok {
		return fmt.Errorf("%w: %s", api.ErrUnknownPeer, p)
	}
	c.Verified = verified
	f.contacts[p] = c
	return nil
}
