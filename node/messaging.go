package node

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/storage"
)

// DefaultFailAfter is how long the outbox tries a message before it marks
// it failed.
const DefaultFailAfter = dm.DefaultFailAfter

// Outgoing is a message the user sends; see dm.Outgoing.
type Outgoing = dm.Outgoing

// Message kinds stored in conversations.
const (
	KindText     = dm.KindText
	KindReply    = dm.KindReply
	KindReaction = dm.KindReaction
)

// Send stores a message for p and queues it; the outbox delivers it. Writing
// to someone who is not a contact yet makes them one.
func (n *Node) Send(ctx context.Context, to peer.ID, out Outgoing) (storage.Message, error) {
	m, err := n.dm.Send(ctx, to, out)
	if err == nil {
		n.afterSend.run(to, func() {
			n.pushMailboxes(to)
			if err := n.dm.EnsureProfileSent(to); err != nil {
				n.log.Warn("profile not sent", "to", to, "err", err)
			}
		})
	}
	return m, err
}

// coalescer runs a follow-up per peer once for however many callers ask
// for it at once: a caller that finds one running marks it to run again and
// returns, and the one running repeats it until no caller asked meanwhile.
// A burst of sends to one peer so checks what it may owe the peer (our
// mailbox list, our profile) a few times, not once a message: each check
// is a read transaction, which waits for the commits in flight, and a
// sender waiting on it would make its next send miss the group commit.
type coalescer struct {
	mu      sync.Mutex
	running map[peer.ID]bool // bounded by the peers being sent to
	again   map[peer.ID]bool
}

func (c *coalescer) run(p peer.ID, fn func()) {
	c.mu.Lock()
	if c.running == nil {
		c.running, c.again = map[peer.ID]bool{}, map[peer.ID]bool{}
	}
	if c.running[p] {
		c.again[p] = true
		c.mu.Unlock()
		return
	}
	c.running[p] = true
	c.mu.Unlock()
	for {
		fn()
		c.mu.Lock()
		if !c.again[p] {
			delete(c.running, p)
			c.mu.Unlock()
			return
		}
		delete(c.again, p)
		c.mu.Unlock()
	}
}

// Inbox lists conversations with accepted contacts, newest first.
func (n *Node) Inbox() ([]storage.Conversation, error) { return n.contacts.Threads(true) }

// Requests lists strangers' conversations, newest first.
func (n *Node) Requests() ([]storage.Conversation, error) { return n.requests.List() }

// Messages returns up to limit messages of the conversation with p, newest
// first, older than before (zero: from the newest).
func (n *Node) Messages(p peer.ID, limit int, before time.Time) ([]storage.Message, error) {
	return n.dm.Messages(p, limit, before)
}

// MarkRead marks p's messages read; an accepted contact gets read receipts,
// a stranger nothing.
func (n *Node) MarkRead(p peer.ID) error { return n.dm.MarkRead(p) }

// Typing tells an accepted contact that the user is (not) typing.
func (n *Node) Typing(p peer.ID, typing bool) error { return n.dm.Typing(p, typing) }

// Accept moves a stranger's thread into the inbox and sends them our profile
// and an acceptance notice.
func (n *Node) Accept(ctx context.Context, p peer.ID) error {
	if err := n.requests.Accept(ctx, p); err != nil {
		return err
	}
	n.pushMailboxes(p)
	return nil
}

// Decline deletes a stranger's thread silently; their next message is a new
// request.
func (n *Node) Decline(p peer.ID) error { return n.requests.Decline(p) }

// PendingMessages lists our messages the outbox still tries to deliver.
func (n *Node) PendingMessages() ([]storage.Message, error) { return n.dm.Pending() }

// CancelMessage stops trying to deliver our message id: it shows failed.
// ErrNotFound: it is not waiting to be sent.
func (n *Node) CancelMessage(id storage.MessageID) (storage.Message, error) {
	ms, err := n.dm.Pending()
	if err != nil {
		return storage.Message{}, err
	}
	for _, m := range ms {
		if m.ID == id {
			return n.dm.Cancel(m.Peer, id)
		}
	}
	return storage.Message{}, fmt.Errorf("%w: message %s is not waiting to be sent", ErrNotFound, id)
}
