package nodeapi

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/node"
)

// Mailboxes.

// AppointMailbox turns api's duration into the node's end time (zero stays
// zero: the node's default).
func (a adapter) AppointMailbox(ctx context.Context, mb peer.ID, d time.Duration) (api.Mailbox, error) {
	var until time.Time
	if d > 0 {
		until = time.Now().Add(d)
	}
	m, err := a.n.AppointMailbox(ctx, mb, until)
	return one(m, err, mailboxJSON)
}

func (a adapter) RevokeMailbox(ctx context.Context, mb peer.ID) error {
	return apiError(a.n.RevokeMailbox(ctx, mb))
}

func (a adapter) Mailboxes() ([]api.Mailbox, error) {
	ms, err := a.n.Mailboxes()
	return all(ms, err, mailboxJSON)
}

func (a adapter) MailboxesOf(p peer.ID) ([]api.KnownMailbox, error) {
	ms, err := a.n.MailboxesOf(p)
	return all(ms, err, knownMailboxJSON)
}

func (a adapter) DrainMailboxes(ctx context.Context) error {
	return apiError(a.n.DrainMailboxes(ctx))
}

func (a adapter) MailboxHeld() ([]api.MailboxHeld, error) {
	hs, err := a.n.MailboxHeld()
	return all(hs, err, mailboxHeldJSON)
}

func (a adapter) SetMailboxServeContacts(on bool) error {
	return apiError(a.n.SetMailboxServeContacts(on))
}

func (a adapter) MailboxServing() (api.MailboxServing, error) {
	helper, contacts, err := a.n.MailboxServing()
	return api.MailboxServing{Helper: helper, Contacts: contacts}, apiError(err)
}

func mailboxJSON(m node.Mailbox) api.Mailbox {
	return api.Mailbox{
		PeerID:     m.Mailbox.String(),
		Issued:     optTime(m.Issued),
		Expires:    optTime(m.Expires),
		LastDrain:  optTime(m.LastDrain),
		DrainError: m.DrainErr,
	}
}

func knownMailboxJSON(m node.KnownMailbox) api.KnownMailbox {
	return api.KnownMailbox{PeerID: m.Mailbox.String(), Expires: optTime(m.Expires), Capability: m.Capability}
}

func mailboxHeldJSON(h node.MailboxHeld) api.MailboxHeld {
	return api.MailboxHeld{
		Recipient:     h.Recipient.String(),
		Items:         h.Items,
		StrangerItems: h.StrangerItems,
		Bytes:         h.Bytes,
		Appointed:     optTime(h.Appointed),
		Expires:       optTime(h.Expires),
	}
}
