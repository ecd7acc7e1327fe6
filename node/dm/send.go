package dm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"
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

// commitSends stores a group of sends in one transaction, and encrypts
// them in it where it may: ratchet state, plaintext and outbox entry change
// together, and the deliverer only has to send. Every peer of the group is
// locked for the whole commit (in peer order, so that two lockers never
// wait on each other), so no deliverer, receive or control send changes the
// session or queues an entry meanwhile. A send is encrypted at once only
// when nothing queued plain for its peer could come before it in the
// outbox (peerState.sealOK): the deliverer encrypts plain entries in outbox
// order, and a send sealed before an older plain entry would get a lower
// ratchet counter yet be sent after it (a burst of those exceeds the
// recipient's skip limit). Once a send of a group goes plain, the rest to
// that peer do too.
func (d *Service) commitSends(group []*sendRequest) {
	locked := map[peer.ID]*peerState{}
	for _, r := range group {
		locked[r.to] = nil
	}
	order := slices.Sorted(maps.Keys(locked))
	for _, p := range order {
		ps := d.peers.acquire(p)
		ps.mu.Lock()
		locked[p] = ps
	}
	defer func() {
		for _, p := range order {
			locked[p].mu.Unlock()
			d.peers.release(locked[p])
		}
	}()
	var newContacts []storage.Contact
	first := true
	err := d.env.Store.Update(func(tx *storage.Txn) error {
		newContacts = newContacts[:0]
		for _, p := range order {
			ps := locked[p]
			if !first {
				ps.invalidate() // a retry: what the last attempt encrypted is gone
			}
			if err := ps.load(tx, p); err != nil {
				return err
			}
		}
		first = false
		g := sendGroup{tx: tx, contacts: map[peer.ID]storage.Contact{}, sealed: map[peer.ID]bool{}}
		for _, r := range group {
			r.err = nil
			if err := d.storeSend(&g, r, locked[r.to]); err != nil {
				if errors.Is(err, errs.ErrBlocked) || errors.Is(err, errs.ErrRequestPending) {
					r.err = err // this send only
					continue
				}
				return err
			}
		}
		newContacts = g.newContacts
		for p := range g.sealed { // once per peer, not per message
			if err := locked[p].save(tx, p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		for _, ps := range locked {
			ps.invalidate()
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

// sendGroup is the state of one commitSends transaction.
type sendGroup struct {
	tx *storage.Txn
	// contacts: each peer's contact, read once per transaction.
	contacts    map[peer.ID]storage.Contact
	newContacts []storage.Contact
	// sealed: the peers whose sessions changed, to save once each.
	sealed map[peer.ID]bool
}

// contact returns p's contact, making a new one for a peer never met.
func (g *sendGroup) contact(p peer.ID, now time.Time) (storage.Contact, error) {
	if c, ok := g.contacts[p]; ok {
		return c, nil
	}
	c, err := g.tx.Contact(p)
	if errors.Is(err, storage.ErrNotFound) {
		c = storage.Contact{Peer: p, State: storage.ContactAccepted, Created: now, Updated: now}
		if err := g.tx.PutContact(c); err != nil {
			return storage.Contact{}, err
		}
		g.newContacts = append(g.newContacts, c)
	} else if err != nil {
		return storage.Contact{}, err
	}
	g.contacts[p] = c
	return c, nil
}

// storeSend stores one send to r.to, whose peerState ps is locked and
// loaded, and encrypts it when ps allows (see commitSends).
func (d *Service) storeSend(g *sendGroup, r *sendRequest, ps *peerState) error {
	tx := g.tx
	now := d.env.Clock.Now() // strictly increasing, under the peer's lock: the outbox floor holds
	c, err := g.contact(r.to, now)
	switch {
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
	if !ps.canSealNow() {
		ps.sealOK = false // this plain entry comes before whatever is queued next
		return tx.AddOutbox(entry)
	}
	content, err := contentFromMessage(r.m)
	if err != nil {
		return err
	}
	if err := d.sealEntry(tx, ps, &entry, content, proof{}, true); err != nil {
		return err
	}
	g.sealed[r.to] = true
	return nil
}
