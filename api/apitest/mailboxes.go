package apitest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
)

// fakeMaxMailboxes is how many mailboxes the fake appoints, like the node.
const fakeMaxMailboxes = 4

// fakeMailboxes is the fake's mailbox state; Fake.mu guards it.
type fakeMailboxes struct {
	mine     []api.Mailbox // in the order appointed
	refusing map[peer.ID]string
	of       map[peer.ID][]api.KnownMailbox
	held     []api.MailboxHeld
	helper   bool
	contacts bool
}

// RefuseMailbox makes p refuse to be our mailbox, and our mailbox p fail
// its drains, saying why.
func (f *Fake) RefuseMailbox(p peer.ID, why string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mb.refusing == nil {
		f.mb.refusing = map[peer.ID]string{}
	}
	f.mb.refusing[p] = why
}

// SetMailboxesOf sets the mailboxes p told us of.
func (f *Fake) SetMailboxesOf(p peer.ID, ms []api.KnownMailbox) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.mb.of == nil {
		f.mb.of = map[peer.ID][]api.KnownMailbox{}
	}
	f.mb.of[p] = ms
}

// SetMailboxHeld sets what the fake holds for others, and whether it runs
// as a helper.
func (f *Fake) SetMailboxHeld(helper bool, held []api.MailboxHeld) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mb.helper, f.mb.held = helper, held
}

// SetMessageState sets the state of our message id to p, as the node's
// outbox would (in_mailbox, delivered…), and emits a "message_state"
// event.
func (f *Fake) SetMessageState(p peer.ID, id, state string) error {
	f.mu.Lock()
	i := slices.IndexFunc(f.messages[p], func(m api.Message) bool { return m.ID == id })
	if i < 0 {
		f.mu.Unlock()
		return fmt.Errorf("%w: message %s to %s", api.ErrNotFound, id, p)
	}
	f.messages[p][i].State = state
	m := f.messages[p][i]
	f.mu.Unlock()
	f.Emit(api.Event{Type: "message_state", PeerID: p.String(), Message: &m})
	return nil
}

// AppointMailbox implements api.MailboxBackend: the appointment starts at
// the fake's clock; appointing a mailbox again renews it.
func (f *Fake) AppointMailbox(ctx context.Context, mb peer.ID, d time.Duration) (api.Mailbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if mb == f.self {
		return api.Mailbox{}, fmt.Errorf("%w: a node cannot be its own mailbox", api.ErrInvalid)
	}
	if why, ok := f.mb.refusing[mb]; ok {
		return api.Mailbox{}, fmt.Errorf("%w: %s", api.ErrMailboxRefused, why)
	}
	i := slices.IndexFunc(f.mb.mine, func(m api.Mailbox) bool { return m.PeerID == mb.String() })
	if i < 0 && len(f.mb.mine) >= fakeMaxMailboxes {
		return api.Mailbox{}, fmt.Errorf("%w: at most %d mailboxes; revoke one first", api.ErrMailboxRefused, fakeMaxMailboxes)
	}
	if d == 0 {
		d = 90 * 24 * time.Hour
	}
	now := f.tick()
	m := api.Mailbox{PeerID: mb.String(), Issued: at(now), Expires: at(now.Add(d))}
	if i < 0 {
		f.mb.mine = append(f.mb.mine, m)
	} else {
		f.mb.mine[i] = m
	}
	return m, nil
}

// RevokeMailbox implements api.MailboxBackend.
func (f *Fake) RevokeMailbox(ctx context.Context, mb peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	i := slices.IndexFunc(f.mb.mine, func(m api.Mailbox) bool { return m.PeerID == mb.String() })
	if i < 0 {
		return fmt.Errorf("%w: %s is not one of our mailboxes", api.ErrNotFound, mb)
	}
	f.mb.mine = slices.Delete(f.mb.mine, i, i+1)
	return nil
}

// Mailboxes implements api.MailboxBackend.
func (f *Fake) Mailboxes() ([]api.Mailbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.mb.mine), nil
}

// MailboxesOf implements api.MailboxBackend.
func (f *Fake) MailboxesOf(p peer.ID) ([]api.KnownMailbox, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.mb.of[p]), nil
}

// DrainMailboxes implements api.MailboxBackend: every mailbox is drained
// at the fake's clock, or fails as RefuseMailbox said; the first failure
// is returned.
func (f *Fake) DrainMailboxes(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var first error
	for i, m := range f.mb.mine {
		p, _ := peer.Decode(m.PeerID)
		if why, ok := f.mb.refusing[p]; ok {
			f.mb.mine[i].DrainError = api.ErrMailboxRefused.Error() + ": " + why
			if first == nil {
				first = fmt.Errorf("%w: %s", api.ErrMailboxRefused, why)
			}
			continue
		}
		f.mb.mine[i].LastDrain, f.mb.mine[i].DrainError = at(f.tick()), ""
	}
	return first
}

// MailboxHeld implements api.MailboxBackend.
func (f *Fake) MailboxHeld() ([]api.MailboxHeld, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.mb.held), nil
}

// SetMailboxServeContacts implements api.MailboxBackend.
func (f *Fake) SetMailboxServeContacts(on bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.mb.contacts = on
	return nil
}

// MailboxServing implements api.MailboxBackend.
func (f *Fake) MailboxServing() (api.MailboxServing, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return api.MailboxServing{Helper: f.mb.helper, Contacts: f.mb.contacts}, nil
}
