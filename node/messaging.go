package node

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// Outgoing is a message the user sends.
type Outgoing struct {
	// Kind is KindText (the default), KindReply or KindReaction.
	Kind string
	// Body is the text, or the emoji of a reaction.
	Body string
	// ReplyTo names the message replied or reacted to.
	ReplyTo storage.MessageID
	// Context says where the message was written from, e.g. "room:<id>"
	// for a question to a room's speaker; the recipient sees it with a
	// request. At most maxContextBytes; text messages only.
	Context string
}

// maxContextBytes bounds Outgoing.Context.
const maxContextBytes = 128

func newMessageID() storage.MessageID {
	var id storage.MessageID
	rand.Read(id[:])
	return id
}

func (n *Node) checkOutgoing(m *Outgoing) error {
	if m.Kind == "" {
		m.Kind = KindText
		if !m.ReplyTo.IsZero() {
			m.Kind = KindReply
		}
	}
	switch m.Kind {
	case KindText, KindReply:
		if m.Body == "" {
			return fmt.Errorf("%w: empty message", ErrNotFound)
		}
		if len(m.Body) > n.cfg.Limits.MaxTextBytes {
			return fmt.Errorf("%w: message of %d bytes, limit %d", ErrTooLarge, len(m.Body), n.cfg.Limits.MaxTextBytes)
		}
	case KindReaction:
		if m.ReplyTo.IsZero() || len(m.Body) > maxEmojiBytes || m.Body == "" {
			return fmt.Errorf("%w: a reaction needs a target and a short emoji", ErrTooLarge)
		}
	default:
		return fmt.Errorf("unknown message kind %q", m.Kind)
	}
	if !utf8.ValidString(m.Body) {
		return fmt.Errorf("message is not valid UTF-8")
	}
	if len(m.Context) > maxContextBytes || !utf8.ValidString(m.Context) || (m.Context != "" && m.Kind == KindReaction) {
		return fmt.Errorf("%w: a context is at most %d bytes of UTF-8, on text only", ErrTooLarge, maxContextBytes)
	}
	return nil
}

// Send stores a message for p and queues it; the outbox delivers it. Writing
// to someone who is not a contact yet makes them one.
//
// Sends are committed by one goroutine in groups: whatever arrives while a
// commit is under way goes into the next transaction, so a burst costs one
// fsync per group rather than one per message.
func (n *Node) Send(ctx context.Context, to peer.ID, out Outgoing) (storage.Message, error) {
	if to == n.ID() {
		return storage.Message{}, ErrSelf
	}
	if err := to.Validate(); err != nil {
		return storage.Message{}, fmt.Errorf("%w: %w", ErrUnknownPeer, err)
	}
	if err := n.checkOutgoing(&out); err != nil {
		return storage.Message{}, err
	}
	if !n.started.Load() {
		return storage.Message{}, fmt.Errorf("%w: not started", ErrClosed)
	}
	req := &sendRequest{to: to, out: out, done: make(chan struct{})}
	select {
	case n.sendq <- req:
	case <-n.ctx.Done():
		return storage.Message{}, ErrClosed
	case <-ctx.Done():
		return storage.Message{}, ctx.Err()
	}
	<-req.done // always answered, also when the node closes
	return req.m, req.err
}

type sendRequest struct {
	to   peer.ID
	out  Outgoing
	m    storage.Message
	err  error
	done chan struct{}
}

// maxSendGroup bounds how many sends one transaction commits.
const maxSendGroup = 512

// runSender commits queued sends until ctx ends.
func (n *Node) runSender(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case r := <-n.sendq:
					r.err = ErrClosed
					close(r.done)
				default:
					return
				}
			}
		case r := <-n.sendq:
			group := []*sendRequest{r}
		more:
			for len(group) < maxSendGroup {
				select {
				case r := <-n.sendq:
					group = append(group, r)
				default:
					break more
				}
			}
			n.commitSends(group)
		}
	}
}

// commitSends stores a group of sends in one transaction. A lone send to a
// peer whose session is free is also encrypted in that transaction: ratchet
// state, plaintext and outbox entry change together, and the deliverer only
// has to send. In a burst the deliverer encrypts in batches instead.
func (n *Node) commitSends(group []*sendRequest) {
	var ps *peerState
	if len(group) == 1 {
		if p := n.peers.get(group[0].to); p.mu.TryLock() {
			ps = p
			defer ps.mu.Unlock()
		}
	}
	var newContacts []storage.Contact
	store := func(tx *storage.Txn) error {
		newContacts = newContacts[:0]
		for _, r := range group {
			r.err = nil
			if err := n.storeSend(tx, r, ps, &newContacts); err != nil {
				if errors.Is(err, ErrBlocked) || errors.Is(err, ErrRequestPending) {
					r.err = err // this send only
					continue
				}
				return err
			}
		}
		return nil
	}
	var err error
	if ps != nil {
		err = n.updateSessions(ps, group[0].to, store)
	} else {
		err = n.store.Update(store)
	}
	for i := range newContacts {
		n.bus.Publish(Event{Type: EventContact, Peer: newContacts[i].Peer, Contact: &newContacts[i]})
	}
	for _, r := range group {
		if err != nil {
			r.err = err
		}
		if r.err == nil {
			m := r.m
			n.bus.Publish(Event{Type: EventMessage, Peer: r.to, Message: &m})
			n.out.notify(r.to)
		}
		close(r.done)
	}
}

// storeSend stores one send; with ps (locked), it also encrypts it.
func (n *Node) storeSend(tx *storage.Txn, r *sendRequest, ps *peerState, newContacts *[]storage.Contact) error {
	now := n.clock.Now()
	c, err := tx.Contact(r.to)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		c = storage.Contact{Peer: r.to, State: storage.ContactAccepted, Created: now, Updated: now}
		if err := tx.PutContact(c); err != nil {
			return err
		}
		*newContacts = append(*newContacts, c)
	case err != nil:
		return err
	case c.State == storage.ContactBlocked:
		return fmt.Errorf("%w: unblock it first", ErrBlocked)
	case c.State == storage.ContactUnknown:
		return fmt.Errorf("%w: accept or decline it first", ErrRequestPending)
	}
	r.m = storage.Message{ID: newMessageID(), Peer: r.to, Direction: storage.Outbound, Kind: r.out.Kind,
		Body: r.out.Body, ReplyTo: r.out.ReplyTo, Sent: now, State: storage.StateQueued, Context: r.out.Context}
	if err := tx.PutMessage(r.m); err != nil {
		return err
	}
	entry := storage.OutboxEntry{ID: r.m.ID, Peer: r.to, Created: now, NextTry: now}
	if ps != nil && ps.cur != nil && ps.cur.CanSend() && !ps.cur.AwaitingReply() {
		if entry.Frame, err = n.seal(ps.cur, r.m, 0, nil); err != nil {
			return err
		}
		if err := ps.save(tx, r.to); err != nil {
			return err
		}
	}
	return tx.PutOutbox(entry)
}

// sendControl encrypts a control content (receipt, profile, acceptance,
// typing) at once and queues it. Without a session there is nothing to send
// it on, and it is skipped: it only ever answers a peer who wrote first.
func (n *Node) sendControl(p peer.ID, c *dmpb.Content) error {
	id := newMessageID()
	c.Id, c.SentUnixNano = id[:], time.Now().UnixNano()
	ps := n.peers.get(p)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	sent := false
	err := n.updateSessions(ps, p, func(tx *storage.Txn) error {
		sent = false
		if ps.cur == nil || !ps.cur.CanSend() {
			return nil
		}
		frame, err := n.sealContent(ps.cur, c, 0, nil)
		if err != nil {
			return err
		}
		now := n.clock.Now() // strictly increasing, as the outbox floor needs
		if err := tx.PutOutbox(storage.OutboxEntry{ID: id, Peer: p, Frame: frame, Created: now, NextTry: now}); err != nil {
			return err
		}
		sent = true
		return ps.save(tx, p)
	})
	if err != nil {
		return err
	}
	if sent {
		n.out.notify(p)
	}
	return nil
}

// Inbox lists conversations with accepted contacts, newest first.
func (n *Node) Inbox() ([]storage.Conversation, error) { return n.contacts.Threads(true) }

// Requests lists strangers' conversations, newest first.
func (n *Node) Requests() ([]storage.Conversation, error) { return n.contacts.Threads(false) }

// Messages returns up to limit messages of the conversation with p, newest
// first, older than before (zero: from the newest).
func (n *Node) Messages(p peer.ID, limit int, before time.Time) ([]storage.Message, error) {
	var ms []storage.Message
	err := n.store.View(func(tx *storage.Txn) error {
		var err error
		ms, err = tx.Messages(p, limit, before)
		return err
	})
	return ms, err
}

// MarkRead marks p's messages read; an accepted contact gets read receipts,
// a stranger nothing.
func (n *Node) MarkRead(p peer.ID) error {
	var ids []storage.MessageID
	var state storage.ContactState
	err := n.store.Update(func(tx *storage.Txn) error {
		c, err := tx.Contact(p)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrUnknownPeer, p)
		}
		if err != nil {
			return err
		}
		state = c.State
		ids, err = tx.MarkRead(p)
		return err
	})
	if err != nil || state != storage.ContactAccepted || len(ids) == 0 {
		return err
	}
	rr := &dmpb.ReadReceipt{}
	for _, id := range ids {
		rr.Ids = append(rr.Ids, id[:])
	}
	return n.sendControl(p, &dmpb.Content{Body: &dmpb.Content_ReadReceipt{ReadReceipt: rr}})
}

// Typing tells an accepted contact that the user is (not) typing.
func (n *Node) Typing(p peer.ID, typing bool) error {
	s, err := n.contacts.State(p)
	if err != nil || s != storage.ContactAccepted {
		return err
	}
	return n.sendControl(p, &dmpb.Content{Body: &dmpb.Content_Typing{Typing: &dmpb.Typing{Typing: typing}}})
}

// Accept moves a stranger's thread into the inbox and sends them our profile
// and an acceptance notice.
func (n *Node) Accept(_ context.Context, p peer.ID) error {
	s, err := n.contacts.State(p)
	if err != nil {
		return err
	}
	if s == storage.ContactBlocked {
		return fmt.Errorf("%w: unblock it first", ErrBlocked)
	}
	if err := n.contacts.SetState(p, storage.ContactAccepted, false); err != nil {
		return err
	}
	// Messages read while the thread was a request got no receipt; now that
	// the sender is accepted, they get one.
	var seen [][]byte
	err = n.store.View(func(tx *storage.Txn) error {
		ms, err := tx.Messages(p, n.cfg.Limits.RequestMessagesPerSender, time.Time{})
		for _, m := range ms {
			if m.Direction == storage.Inbound && m.State == storage.StateSeen {
				seen = append(seen, m.ID[:])
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := n.sendControl(p, &dmpb.Content{Body: &dmpb.Content_Profile{Profile: &dmpb.Profile{Name: n.contacts.ProfileName()}}}); err != nil {
		return err
	}
	if err := n.sendControl(p, &dmpb.Content{Body: &dmpb.Content_RequestAccepted{RequestAccepted: &dmpb.RequestAccepted{}}}); err != nil {
		return err
	}
	if len(seen) == 0 {
		return nil
	}
	return n.sendControl(p, &dmpb.Content{Body: &dmpb.Content_ReadReceipt{ReadReceipt: &dmpb.ReadReceipt{Ids: seen}}})
}

// Decline deletes a stranger's thread silently; their next message is a new
// request.
func (n *Node) Decline(p peer.ID) error {
	s, err := n.contacts.State(p)
	if err != nil {
		return err
	}
	if s != storage.ContactUnknown {
		return fmt.Errorf("%w: %s is not a request", ErrNotFound, p)
	}
	// The session stays: it holds no content, and the peer's next message
	// (a new request) arrives on it.
	return n.store.Update(func(tx *storage.Txn) error {
		if err := tx.DeleteConversation(p); err != nil {
			return err
		}
		return tx.DeleteContact(p)
	})
}
