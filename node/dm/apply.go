package dm

import (
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/peer"
)

// apply stores or acts on one decrypted content.
func (rc *receipt) apply(id storage.MessageID, c *dmpb.Content) error {
	now := time.Now().UTC()
	switch b := c.Body.(type) {
	case *dmpb.Content_Text:
		return rc.text(id, sentTime(c, now), now, b.Text)
	case *dmpb.Content_Reaction:
		return rc.reaction(id, sentTime(c, now), now, b.Reaction)
	case *dmpb.Content_ReadReceipt:
		return rc.readReceipt(b.ReadReceipt)
	case *dmpb.Content_DeliveryReceipt:
		return rc.deliveryReceipt(b.DeliveryReceipt)
	case *dmpb.Content_Mailboxes:
		if rc.blocked() || rc.d.cfg.Mailboxes == nil {
			return nil
		}
		return rc.d.cfg.Mailboxes.Learn(rc.tx, rc.p, b.Mailboxes)
	case *dmpb.Content_Typing:
		if !rc.stranger() {
			rc.events = append(rc.events, event.Event{Type: event.Typing, Peer: rc.p, Typing: b.Typing.Typing})
		}
		return nil
	case *dmpb.Content_Profile:
		return rc.profile(now, b.Profile)
	case *dmpb.Content_RequestAccepted:
		if rc.blocked() {
			return nil
		}
		if rc.contact.State == storage.ContactAccepted {
			rc.profileBack = true // they accepted us: now they may know our name
		}
		c := rc.contact
		rc.events = append(rc.events, event.Event{Type: event.Contact, Peer: rc.p, Contact: &c})
		return nil
	}
	if gc, ok := groupControlOf(c); ok {
		if rc.d.cfg.Groups == nil || rc.blocked() {
			return nil
		}
		return rc.d.cfg.Groups(rc, id, sentTime(c, now), gc)
	}
	return fmt.Errorf("%w: empty or unknown content", errs.ErrProtocol)
}

func (rc *receipt) text(id storage.MessageID, sent, now time.Time, t *dmpb.Text) error {
	kind := KindText
	reply, err := optionalMessageID(t.ReplyTo)
	if err != nil {
		return err
	}
	if !reply.IsZero() {
		kind = KindReply
	}
	if len(t.Body) > rc.d.cfg.MaxTextBytes || !utf8.ValidString(t.Body) {
		return fmt.Errorf("%w: text of %d bytes or not UTF-8", errs.ErrProtocol, len(t.Body))
	}
	context := t.Context
	if len(context) > MaxContextBytes || !utf8.ValidString(context) {
		context = "" // an ornament: a bad one costs the message nothing
	}
	if rc.contact.Origin == "" && context != "" && !rc.known {
		rc.contact.Origin = context
	}
	return rc.store(storage.Message{ID: id, Peer: rc.p, Direction: storage.Inbound, Kind: kind, Body: t.Body,
		ReplyTo: reply, Sent: sent, Received: now, State: storage.StateReceived, Context: context}, true)
}

func (rc *receipt) reaction(id storage.MessageID, sent, now time.Time, r *dmpb.Reaction) error {
	target, err := messageIDFrom(r.Target)
	if err != nil {
		return err
	}
	if len(r.Emoji) > MaxEmojiBytes || !utf8.ValidString(r.Emoji) {
		return fmt.Errorf("%w: reaction too long", errs.ErrProtocol)
	}
	return rc.store(storage.Message{ID: id, Peer: rc.p, Direction: storage.Inbound, Kind: KindReaction, Body: r.Emoji,
		ReplyTo: target, Sent: sent, Received: now, State: storage.StateReceived}, true)
}

func (rc *receipt) readReceipt(rr *dmpb.ReadReceipt) error {
	if rc.stranger() {
		return nil
	}
	for _, raw := range rr.Ids {
		mid, err := messageIDFrom(raw)
		if err != nil {
			return err
		}
		if err := rc.advance(mid, storage.StateRead); err != nil {
			return err
		}
	}
	return nil
}

// deliveryReceipt marks our messages p committed after taking them from
// its mailbox as delivered, as p's ack would have.
func (rc *receipt) deliveryReceipt(dr *dmpb.DeliveryReceipt) error {
	if rc.blocked() || len(dr.Ids) > maxBatch {
		return nil
	}
	for _, raw := range dr.Ids {
		mid, err := messageIDFrom(raw)
		if err != nil {
			return err
		}
		if err := rc.tx.DeleteOutbox(rc.p, mid); err != nil {
			return err
		}
		if err := rc.advance(mid, storage.StateDelivered); err != nil {
			return err
		}
	}
	return nil
}

func (rc *receipt) profile(now time.Time, p *dmpb.Profile) error {
	name := p.Name
	if len(name) > contacts.MaxNameBytes || !utf8.ValidString(name) {
		return fmt.Errorf("%w: profile name too long", errs.ErrProtocol)
	}
	if rc.stranger() {
		// A name comes with acceptance: the requester answers our
		// acceptance notice with its profile. Until then whatever a
		// stranger calls itself ("Your Bank (verified)") is not kept.
		return nil
	}
	rc.contact.ProfileName = name
	rc.contact.Updated = now
	if err := rc.tx.PutContact(rc.contact); err != nil {
		return err
	}
	c := rc.contact
	rc.events = append(rc.events, event.Event{Type: event.Contact, Peer: rc.p, Contact: &c})
	return nil
}

// store saves an inbound message, creating the stranger's contact record
// (which makes the thread a request) on their first message. A blocked
// peer's message is only counted, as its pending thread would count it.
// fresh: the envelope's ID, which this transaction found not stored.
func (rc *receipt) store(m storage.Message, fresh bool) error {
	if rc.blocked() {
		return rc.drop(m.ID)
	}
	if !rc.known {
		rc.contact.Created, rc.contact.Updated = m.Received, m.Received
		if err := rc.tx.PutContact(rc.contact); err != nil {
			return err
		}
		rc.known = true
	}
	put := rc.tx.PutMessage
	if fresh {
		put = rc.tx.AddMessage
	}
	if err := put(m); err != nil {
		return err
	}
	rc.stored++
	typ := event.Message
	if rc.stranger() {
		typ = event.Request
	}
	rc.events = append(rc.events, event.Event{Type: typ, Peer: rc.p, Message: &m})
	return nil
}

// advance moves one of our outbound messages forward to state s.
func (rc *receipt) advance(id storage.MessageID, s storage.MessageState) error {
	e, err := advanceState(rc.tx, rc.p, id, time.Time{}, s)
	if e != nil {
		rc.events = append(rc.events, *e)
	}
	return err
}

// GroupHandler takes a group control content that arrived over 1:1, inside
// the receive transaction: id is its message ID, sent its send time. An
// error aborts the batch (nothing is acked): return one only when the store
// failed or the content breaks the protocol; a content that does not check
// out is dropped with nil, or its sender would send it forever.
type GroupHandler func(r Receipt, id storage.MessageID, sent time.Time, c GroupControl) error

// Receipt is what a GroupHandler sees of the receive transaction.
type Receipt interface {
	// Txn is the receive transaction.
	Txn() *storage.Txn
	// Peer sent the content; Key is its identity key.
	Peer() peer.ID
	Key() keys.PublicKey
	// Stranger reports whether the peer is not an accepted contact.
	Stranger() bool
	// Store saves an inbound message in the peer's thread, with the
	// stranger rules: the first one makes the thread a request.
	Store(m storage.Message) error
	// Emit publishes e once the transaction has committed.
	Emit(e event.Event)
	// After runs f once the transaction has committed, outside the peer's
	// lock.
	After(f func())
}

func (rc *receipt) Txn() *storage.Txn             { return rc.tx }
func (rc *receipt) Peer() peer.ID                 { return rc.p }
func (rc *receipt) Key() keys.PublicKey           { return rc.pk }
func (rc *receipt) Stranger() bool                { return rc.stranger() }
func (rc *receipt) Store(m storage.Message) error { return rc.store(m, false) }
func (rc *receipt) Emit(e event.Event)            { rc.events = append(rc.events, e) }
func (rc *receipt) After(f func())                { rc.after = append(rc.after, f) }
