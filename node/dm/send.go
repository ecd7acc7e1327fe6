package dm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/internal/input"
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
	// request. At most MaxContextBytes; text messages only.
	Context string
	// Key, when set, makes the send idempotent: a send with the same key to
	// the same peer returns the message the first one stored instead of
	// storing another (a client retrying after a lost answer). At most
	// MaxKeyBytes.
	Key string
}

// MaxContextBytes bounds Outgoing.Context.
const MaxContextBytes = 128

// NewMessageID returns a random message ID.
func NewMessageID() storage.MessageID {
	var id storage.MessageID
	rand.Read(id[:])
	return id
}

func (d *Service) checkOutgoing(m *Outgoing) error {
	if m.Kind == "" {
		m.Kind = KindText
		if !m.ReplyTo.IsZero() {
			m.Kind = KindReply
		}
	}
	switch m.Kind {
	case KindText, KindReply:
		if err := input.Text(m.Body); err != nil {
			return errs.Say(errs.ErrInvalidInput, err, nil)
		}
		if len(m.Body) > d.cfg.MaxTextBytes {
			return fmt.Errorf("%w: message of %d bytes, limit %d", errs.ErrTooLarge, len(m.Body), d.cfg.MaxTextBytes)
		}
	case KindReaction:
		if m.ReplyTo.IsZero() {
			return fmt.Errorf("%w: a reaction needs the message it reacts to", errs.ErrInvalidInput)
		}
		if len(m.Body) > MaxEmojiBytes {
			return fmt.Errorf("%w: a reaction of %d bytes, limit %d", errs.ErrTooLarge, len(m.Body), MaxEmojiBytes)
		}
		if err := input.Reaction(m.Body); err != nil {
			return errs.Say(errs.ErrInvalidInput, err, nil)
		}
	default:
		return fmt.Errorf("unknown message kind %q", m.Kind)
	}
	if !utf8.ValidString(m.Body) {
		return fmt.Errorf("message is not valid UTF-8")
	}
	if len(m.Key) > MaxKeyBytes {
		return fmt.Errorf("%w: an idempotency key is at most %d bytes", errs.ErrTooLarge, MaxKeyBytes)
	}
	if len(m.Context) > MaxContextBytes || !utf8.ValidString(m.Context) || (m.Context != "" && m.Kind == KindReaction) {
		return fmt.Errorf("%w: a context is at most %d bytes of UTF-8, on text only", errs.ErrTooLarge, MaxContextBytes)
	}
	return nil
}

// Send stores a message for p and queues it; the outbox delivers it. Writing
// to someone who is not a contact yet makes them one.
//
// Sends are committed by one goroutine in groups: whatever arrives while a
// commit is under way goes into the next transaction, so a burst costs one
// fsync per group rather than one per message.
func (d *Service) Send(ctx context.Context, to peer.ID, out Outgoing) (storage.Message, error) {
	if to == d.env.Net.Host().ID() {
		return storage.Message{}, errs.ErrSelf
	}
	if err := to.Validate(); err != nil {
		return storage.Message{}, fmt.Errorf("%w: %w", errs.ErrUnknownPeer, err)
	}
	if err := d.checkOutgoing(&out); err != nil {
		return storage.Message{}, err
	}
	if !d.started.Load() {
		return storage.Message{}, fmt.Errorf("%w: not started", errs.ErrClosed)
	}
	req := &sendRequest{to: to, out: out, done: make(chan struct{})}
	select {
	case d.sendq <- req:
	case <-d.ctx.Done():
		return storage.Message{}, errs.ErrClosed
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
	// sealed: stored encrypted, with the session changed (commitSends
	// saves it).
	sealed bool
}

// maxSendGroup bounds how many sends one transaction commits.
const maxSendGroup = 512

// runSender commits queued sends until ctx ends.
func (d *Service) runSender(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			for {
				select {
				case r := <-d.sendq:
					r.err = errs.ErrClosed
					close(r.done)
				default:
					return
				}
			}
		case r := <-d.sendq:
			group := []*sendRequest{r}
		more:
			for len(group) < maxSendGroup {
				select {
				case r := <-d.sendq:
					group = append(group, r)
				default:
					break more
				}
			}
			d.commitSends(group)
		}
	}
}

// commitSends stores a group of sends in one transaction. A lone send to a
// peer whose session is free (its lock not held by a deliverer or a receive)
// is also encrypted in that transaction: ratchet state, plaintext and outbox
// entry change together, and the deliverer only has to send. In a burst the
// deliverer encrypts in batches instead. Sealing whole groups here was tried
// and is wrong as it stands: a send queued plain while the lock was busy is
// encrypted later by the deliverer, with a higher ratchet counter than the
// sealed sends queued after it, yet sent before them, so the recipient must
// skip past every one of them and a burst exceeds its skip limit. Doing it
// needs the encryption order kept equal to the outbox order.
func (d *Service) commitSends(group []*sendRequest) {
	locked := map[peer.ID]*peerState{}
	for _, r := range group {
		if _, ok := locked[r.to]; ok {
			continue
		}
		locked[r.to] = nil
		if p := d.peers.get(r.to); len(group) == 1 && p.mu.TryLock() { // see above
			locked[r.to] = p
			defer p.mu.Unlock()
		}
	}
	var newContacts []storage.Contact
	first := true
	err := d.env.Store.Update(func(tx *storage.Txn) error {
		newContacts = newContacts[:0]
		for p, ps := range locked {
			if ps == nil {
				continue
			}
			if !first {
				ps.invalidate() // a retry: what the last attempt encrypted is gone
			}
			if err := ps.load(tx, p); err != nil {
				return err
			}
		}
		first = false
		sealed := map[peer.ID]bool{}
		for _, r := range group {
			r.err = nil
			ps := locked[r.to]
			if err := d.storeSend(tx, r, ps, &newContacts); err != nil {
				if errors.Is(err, errs.ErrBlocked) || errors.Is(err, errs.ErrRequestPending) {
					r.err = err // this send only
					continue
				}
				return err
			}
			if r.sealed {
				sealed[r.to] = true
			}
		}
		for p := range sealed { // once per peer, not per message
			if err := locked[p].save(tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, ps := range locked {
			if ps != nil {
				ps.invalidate()
			}
		}
	}
	for i := range newContacts {
		d.env.Bus.Publish(event.Event{Type: event.Contact, Peer: newContacts[i].Peer, Contact: &newContacts[i]})
	}
	for _, r := range group {
		if err != nil {
			r.err = err
		}
		if r.err == nil {
			m := r.m
			d.env.Bus.Publish(event.Event{Type: event.Message, Peer: r.to, Message: &m})
			d.out.notify(r.to)
		}
		close(r.done)
	}
}

// storeSend stores one send; with ps (locked, loaded), it also encrypts it
// when the session allows, and sets r.sealed.
func (d *Service) storeSend(tx *storage.Txn, r *sendRequest, ps *peerState, newContacts *[]storage.Contact) error {
	r.sealed = false
	now := d.env.Clock.Now()
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
		return fmt.Errorf("%w: unblock it first", errs.ErrBlocked)
	case c.State == storage.ContactUnknown:
		return fmt.Errorf("%w: accept or decline it first", errs.ErrRequestPending)
	}
	id := NewMessageID()
	if r.out.Key != "" {
		id = keyedID(r.to, r.out.Key)
		switch m, err := tx.Message(r.to, id); {
		case err == nil:
			r.m = m // a retry: the first send stored it
			return nil
		case !errors.Is(err, storage.ErrNotFound):
			return err
		}
	}
	r.m = storage.Message{ID: id, Peer: r.to, Direction: storage.Outbound, Kind: r.out.Kind,
		Body: r.out.Body, ReplyTo: r.out.ReplyTo, Sent: now, State: storage.StateQueued, Context: r.out.Context}
	if err := tx.AddMessage(r.m); err != nil { // a fresh ID, or a key just looked up
		return err
	}
	entry := storage.OutboxEntry{ID: r.m.ID, Peer: r.to, Created: now, NextTry: now}
	if ps != nil && ps.cur != nil && ps.cur.CanSend() && !ps.cur.AwaitingReply() {
		c, err := contentFromMessage(r.m)
		if err != nil {
			return err
		}
		if err := d.sealEntry(tx, ps, &entry, c, proof{}, true); err != nil {
			return err
		}
		r.sealed = true
		return nil
	}
	return tx.AddOutbox(entry)
}
