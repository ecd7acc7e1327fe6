package node

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/node/mailbox"
)

// Mailbox types, re-exported.
type (
	// Mailbox is one of our mailboxes; see mailbox.Appointed.
	Mailbox = mailbox.Appointed
	// MailboxHeld is what this node holds for one recipient.
	MailboxHeld = mailbox.Held
	// KnownMailbox is a mailbox a peer told us of.
	KnownMailbox = mailbox.Known
)

// DefaultDepositAfter is how long the outbox tries a peer directly before
// it deposits in the peer's mailbox.
const DefaultDepositAfter = 5 * time.Second

// mailboxGlue joins the mailbox service to the 1:1 service, neither of
// which imports the other.
type mailboxGlue struct{ n *Node }

func (g mailboxGlue) ReceiveDrained(items []mailbox.Drained) ([]bool, error) {
	in := make([]dm.Drained, len(items))
	for i, it := range items {
		in[i] = dm.Drained{From: it.From, Frame: it.Frame}
	}
	return g.n.dm.ReceiveDrained(in)
}

func (g mailboxGlue) SendMailboxList(p peer.ID, list []byte) error {
	return g.n.dm.SendMailboxList(p, list)
}

func (g mailboxGlue) MailboxBundle() ([]byte, error) { return g.n.dm.MailboxBundle() }

func (g mailboxGlue) Answered(p peer.ID) bool { return g.n.dm.Answered(p) }

func (n *Node) newMailbox() *mailbox.Service {
	return mailbox.New(mailbox.Config{
		Env:             n.env,
		Receiver:        mailboxGlue{n},
		Sender:          mailboxGlue{n},
		Helper:          n.cfg.Helper,
		StampDifficulty: n.cfg.StampDifficulty,
		Limits:          n.cfg.MailboxLimits,
	})
}

// pushMailboxes gives p our mailbox list if it lacks it: p became a contact.
func (n *Node) pushMailboxes(p peer.ID) {
	if err := n.mailbox.EnsurePushed(p); err != nil {
		n.log.Warn("mailbox list not sent", "to", p, "err", err)
	}
}

// AppointMailbox asks mb to hold our mail while we are offline, until
// until (90 days from now when zero), and tells our contacts.
func (n *Node) AppointMailbox(ctx context.Context, mb peer.ID, until time.Time) (Mailbox, error) {
	return n.mailbox.Appoint(ctx, mb, until)
}

// RevokeMailbox ends mb's appointment after draining it.
func (n *Node) RevokeMailbox(ctx context.Context, mb peer.ID) error { return n.mailbox.Revoke(ctx, mb) }

// Mailboxes lists the mailboxes we appointed.
func (n *Node) Mailboxes() ([]Mailbox, error) { return n.mailbox.Mine() }

// MailboxesOf lists the mailboxes p told us of.
func (n *Node) MailboxesOf(p peer.ID) ([]KnownMailbox, error) { return n.mailbox.Of(p) }

// DrainMailboxes takes what our mailboxes hold for us now.
func (n *Node) DrainMailboxes(ctx context.Context) error { return n.mailbox.Drain(ctx) }

// MailboxHeld lists what this node holds as a mailbox, per recipient.
func (n *Node) MailboxHeld() ([]MailboxHeld, error) { return n.mailbox.Held() }

// SetMailboxServeContacts says whether this node holds mail for accepted
// contacts that appoint it (a helper holds mail for anyone).
func (n *Node) SetMailboxServeContacts(on bool) error { return n.mailbox.SetServeContacts(on) }

// MailboxServing reports whether this node holds mail for others.
func (n *Node) MailboxServing() (helper, contacts bool, err error) { return n.mailbox.Serving() }
