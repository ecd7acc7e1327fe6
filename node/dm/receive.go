package dm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/storage"
)

const (
	// dmIdleTimeout closes a DM stream that carried nothing for this long.
	dmIdleTimeout = 10 * time.Minute
	// maxBatch bounds how many envelopes one store transaction commits.
	maxBatch = 256
	// maxBatchBytes bounds the envelopes of one batch in bytes: a batch is
	// held in memory until committed, and 256 envelopes of up to
	// maxFrameSize would be 17 MiB per stream, on as many streams as a peer
	// may open.
	maxBatchBytes = 1 << 20
)

// maxFrameSize bounds one frame on a DM or prekey stream: the largest
// ratchet message plus room for the envelope, stamp and token.
const maxFrameSize = ratchet.MaxMessageSize + 1024

// handleDM serves one inbound DM stream: it reads envelopes, commits each
// batch of them in one transaction and only then acks them. A peer that
// breaks the protocol (garbage, oversized frames, forged or foreign
// envelopes) gets a log line and a reset stream.
func (d *Service) handleDM(s network.Stream) {
	p := s.Conn().RemotePeer()
	r := bufio.NewReaderSize(s, 64<<10)
	for {
		_ = s.SetReadDeadline(time.Now().Add(dmIdleTimeout))
		batch, readErr := readEnvelopes(r)
		if len(batch) > 0 {
			acks, err := d.receive(p, batch, false)
			if err != nil {
				d.env.Log.Warn("dm: dropping stream", "from", p, "err", err)
				s.Reset()
				return
			}
			var out []byte
			for _, a := range acks {
				if out, err = frame.Append(out, &dmpb.Frame{Body: &dmpb.Frame_Ack{Ack: a}}); err != nil {
					s.Reset()
					return
				}
			}
			_ = s.SetWriteDeadline(time.Now().Add(time.Minute))
			if _, err := s.Write(out); err != nil {
				d.env.Log.Debug("dm: acks not sent", "to", p, "err", err)
				s.Reset()
				return
			}
		}
		if readErr != nil {
			if errors.Is(readErr, io.EOF) {
				s.Close()
				return
			}
			if errors.Is(readErr, errs.ErrProtocol) {
				d.env.Log.Warn("dm: dropping stream", "from", p, "err", readErr)
			} else {
				d.env.Log.Debug("dm: stream ended", "from", p, "err", readErr)
			}
			s.Reset()
			return
		}
	}
}

// readEnvelopes reads one envelope, then as many more as are already
// buffered, up to maxBatch envelopes or until they reach maxBatchBytes.
func readEnvelopes(r *bufio.Reader) ([]*dmpb.Envelope, error) {
	var batch []*dmpb.Envelope
	for size := 0; len(batch) < maxBatch && size < maxBatchBytes; {
		var f dmpb.Frame
		if err := frame.Read(r, &f, maxFrameSize); err != nil {
			return batch, err
		}
		env := f.GetEnvelope()
		if env == nil {
			return batch, fmt.Errorf("%w: expected an envelope", errs.ErrProtocol)
		}
		batch = append(batch, env)
		size += proto.Size(env)
		if r.Buffered() == 0 {
			break
		}
	}
	return batch, nil
}

func ack(id []byte) *dmpb.Ack { return &dmpb.Ack{Id: id} }

func retryLater(id []byte, reason string) *dmpb.Ack {
	return &dmpb.Ack{Id: id, Status: dmpb.Ack_RETRY_LATER, Reason: reason}
}

// receive processes a batch of envelopes from p in one transaction and
// returns the acks to send once it has committed. An error means p broke the
// protocol or the store failed: nothing is acked and nothing was stored.
// Envelopes drained from a mailbox (drained) are answered with a delivery
// receipt queued in the same transaction, since p is not on the line.
func (d *Service) receive(p peer.ID, batch []*dmpb.Envelope, drained bool) ([]*dmpb.Ack, error) {
	ps := d.peers.acquire(p)
	defer d.peers.release(ps)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	// p's first answer on a session we started: p may now get our name.
	wasAwaiting := ps.loaded && ps.cur != nil && ps.cur.AwaitingReply()
	var (
		acks        []*dmpb.Ack
		events      []event.Event
		after       []func()
		profileBack bool
		// receiptQueued: a delivery receipt for drained envelopes waits in
		// the outbox.
		receiptQueued bool
	)
	err := d.updateSessions(ps, p, func(tx *storage.Txn) error {
		acks, events = acks[:0], events[:0]
		rc := &receipt{d: d, tx: tx, ps: ps, p: p, drained: drained}
		if err := rc.begin(); err != nil {
			return err
		}
		for _, env := range batch {
			a, err := rc.envelope(env)
			if err != nil {
				return err
			}
			acks = append(acks, a)
		}
		events, profileBack, after = rc.events, rc.profileBack, rc.after
		if err := rc.saveDrops(); err != nil {
			return err
		}
		if err := rc.queueDeliveryReceipt(); err != nil {
			return err
		}
		receiptQueued = rc.receiptQueued
		return ps.save(tx, p)
	})
	if err != nil {
		return nil, err
	}
	for _, e := range events {
		d.env.Bus.Publish(e)
	}
	if receiptQueued {
		d.out.notify(p)
	}
	if len(after) > 0 {
		// Group work that follows a commit (refreshing a live group, opening
		// what a new key unlocks, changing a roster) takes locks of its own:
		// never while this peer's lock is held.
		d.env.Life.Go(func() { // within a tracked stream handler: never after Close's Wait
			for _, f := range after {
				f()
			}
		})
	}
	if wasAwaiting && ps.cur != nil && !ps.cur.AwaitingReply() && !profileBack {
		d.env.Life.Go(func() { // within a tracked stream handler: never after Close's Wait
			if err := d.EnsureProfileSent(p); err != nil {
				d.env.Log.Warn("profile not sent", "to", p, "err", err)
			}
		})
	}
	if profileBack {
		d.env.Life.Go(func() { // within a tracked stream handler: never after Close's Wait
			if err := d.SendProfile(p); err != nil {
				d.env.Log.Warn("profile not sent", "to", p, "err", err)
			}
		})
	}
	return acks, nil
}

// receipt is the state of one receive transaction.
type receipt struct {
	d       *Service
	tx      *storage.Txn
	ps      *peerState
	p       peer.ID
	pk      keys.PublicKey
	contact storage.Contact
	known   bool // a contact record exists
	stored  int  // messages stored for p in this transaction
	events  []event.Event
	// profileBack: p accepted our request, so we send our profile.
	profileBack bool
	// after runs once the transaction has committed, outside the peer's lock.
	after []func()
	// A blocked peer's stand-in for a request thread (contacts.BlockedDropsKey):
	// the count when blocked, the IDs dropped since, whether they changed.
	dropsBefore int
	drops       []storage.MessageID
	dropsDirty  bool
	// drained: the envelopes came from a mailbox; delivered lists those
	// to name in the delivery receipt, receiptQueued that one was queued.
	drained       bool
	delivered     []storage.MessageID
	receiptQueued bool
}

func (rc *receipt) begin() error {
	pk, err := keys.PublicKeyFromPeerID(rc.p)
	if err != nil {
		return fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	rc.pk = pk
	c, err := rc.tx.Contact(rc.p)
	switch {
	case err == nil:
		rc.contact, rc.known = c, true
	case errors.Is(err, storage.ErrNotFound):
		rc.contact = storage.Contact{Peer: rc.p, State: storage.ContactUnknown}
	default:
		return err
	}
	if rc.blocked() {
		b, err := rc.tx.GetSetting(contacts.BlockedDropsKey(rc.p))
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		rc.dropsBefore, rc.drops = contacts.DecodeBlockedDrops(b)
	}
	return nil
}

// stranger reports whether p is not an accepted contact: a stranger, or a
// blocked peer (which is answered as a stranger left pending).
func (rc *receipt) stranger() bool { return rc.contact.State != storage.ContactAccepted }

func (rc *receipt) blocked() bool { return rc.contact.State == storage.ContactBlocked }

// held is how many messages count against p's request thread besides those
// stored before this transaction: stored in it, or dropped while blocked.
func (rc *receipt) held() int { return rc.stored + rc.dropsBefore + len(rc.drops) }

// dropped reports whether id is a blocked peer's message already dropped.
func (rc *receipt) dropped(id storage.MessageID) bool {
	for _, d := range rc.drops {
		if d == id {
			return true
		}
	}
	return false
}

// drop counts a blocked peer's message as its pending thread would and
// stores nothing else of it.
func (rc *receipt) drop(id storage.MessageID) error {
	rc.drops = append(rc.drops, id)
	rc.dropsDirty = true
	return nil
}

func (rc *receipt) saveDrops() error {
	if !rc.dropsDirty {
		return nil
	}
	return rc.tx.PutSetting(contacts.BlockedDropsKey(rc.p), contacts.EncodeBlockedDrops(rc.dropsBefore, rc.drops))
}

// envelope handles one envelope; an error aborts the whole batch.
func (rc *receipt) envelope(env *dmpb.Envelope) (*dmpb.Ack, error) {
	id, err := messageIDFrom(env.Id)
	if err != nil {
		return nil, err
	}
	if dup, err := rc.tx.HasMessage(rc.p, id); err != nil {
		return nil, err
	} else if dup || rc.dropped(id) {
		rc.delivered = append(rc.delivered, id)
		return ack(env.Id), nil
	}
	// A blocked peer goes the stranger's way to the end (caps, stamp,
	// decryption, content checks), and only then is its message dropped
	// instead of stored: what it gets back, and when, is what a stranger
	// whose request stays pending gets, so it cannot tell it is blocked.
	if rc.stranger() {
		reason, err := rc.d.cfg.Gate.AdmitStranger(rc.tx, Stranger{Peer: rc.p, Key: rc.pk, Known: rc.known, Stored: rc.held(),
			RatchetMessage: env.RatchetMessage, Stamp: env.Stamp, InviteToken: env.InviteToken})
		if err != nil || reason != "" {
			return retryLater(env.Id, reason), err
		}
	}
	msg, err := ratchet.UnmarshalMessage(env.RatchetMessage)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	pt, err := rc.decrypt(msg)
	if errors.Is(err, ratchet.ErrDuplicate) {
		rc.delivered = append(rc.delivered, id)
		return ack(env.Id), nil // a retransmission of something processed
	}
	if errors.Is(err, ratchet.ErrTooManySkipped) && rc.stranger() {
		// A stranger's messages we asked to retry later left a gap in its
		// chain too long to skip; its outbox resends them in order, so the
		// gap closes if it is honest.
		return retryLater(env.Id, "too far ahead: send the earlier messages first"), nil
	}
	if err != nil {
		return nil, err
	}
	var c dmpb.Content
	if err := proto.Unmarshal(pt, &c); err != nil {
		return nil, fmt.Errorf("%w: content: %w", errs.ErrProtocol, err)
	}
	if string(c.Id) != string(env.Id) {
		return nil, fmt.Errorf("%w: envelope and content IDs differ", errs.ErrProtocol)
	}
	if err := rc.apply(id, &c); err != nil {
		return nil, err
	}
	if wantsDeliveryReceipt(&c) {
		rc.delivered = append(rc.delivered, id)
	}
	return ack(env.Id), nil
}

// wantsDeliveryReceipt reports whether a drained content is answered with a
// delivery receipt: everything but receipts, typing and mailbox lists, which
// nobody waits on (and a receipt of a receipt would never end).
func wantsDeliveryReceipt(c *dmpb.Content) bool {
	switch c.Body.(type) {
	case *dmpb.Content_DeliveryReceipt, *dmpb.Content_ReadReceipt, *dmpb.Content_Typing, *dmpb.Content_Mailboxes:
		return false
	}
	return true
}

// queueDeliveryReceipt encrypts a delivery receipt for what this
// transaction took from a mailbox and queues it, in the transaction.
func (rc *receipt) queueDeliveryReceipt() error {
	if !rc.drained || len(rc.delivered) == 0 || rc.ps.cur == nil || !rc.ps.cur.CanSend() {
		return nil
	}
	dr := &dmpb.DeliveryReceipt{}
	for _, id := range rc.delivered {
		dr.Ids = append(dr.Ids, id[:])
	}
	id := NewMessageID()
	c := &dmpb.Content{Id: id[:], SentUnixNano: time.Now().UnixNano(), Body: &dmpb.Content_DeliveryReceipt{DeliveryReceipt: dr}}
	now := rc.d.env.Clock.Now()
	e := storage.OutboxEntry{ID: id, Peer: rc.p, Created: now, NextTry: now}
	if err := rc.d.sealEntry(rc.tx, rc.ps, &e, c, proofFor(rc.tx, rc.ps, rc.p), true); err != nil {
		return err
	}
	rc.receiptQueued = true
	return nil
}

// decrypt finds or makes the session for msg and decrypts it.
func (rc *receipt) decrypt(msg ratchet.Message) ([]byte, error) {
	if h := msg.X3DH; h != nil {
		if h.Initiator.Key != rc.pk {
			return nil, fmt.Errorf("%w: X3DH header names another identity", errs.ErrProtocol)
		}
		if cands := rc.ps.candidates(h); len(cands) == 0 {
			s, err := rc.respond(msg)
			if err != nil {
				return nil, err
			}
			pt, err := s.Decrypt(msg)
			if err != nil {
				return nil, fmt.Errorf("%w: first message: %w", errs.ErrProtocol, err)
			}
			rc.ps.adopt(s)
			return pt, nil
		}
	}
	cands := rc.ps.candidates(msg.X3DH)
	if len(cands) == 0 {
		return nil, fmt.Errorf("%w: no session with this peer", errs.ErrProtocol)
	}
	dup, ahead := false, false
	for _, s := range cands {
		pt, err := s.Decrypt(msg)
		if err == nil {
			return pt, nil
		}
		dup = dup || errors.Is(err, ratchet.ErrDuplicate)
		ahead = ahead || errors.Is(err, ratchet.ErrTooManySkipped)
	}
	switch {
	case dup:
		return nil, ratchet.ErrDuplicate
	case ahead:
		return nil, fmt.Errorf("%w: message does not decrypt: %w", errs.ErrProtocol, ratchet.ErrTooManySkipped)
	}
	return nil, fmt.Errorf("%w: message does not decrypt", errs.ErrProtocol)
}

// respond starts a responder session from msg's X3DH header, taking the
// one-time prekey it names (given back if the transaction aborts).
func (rc *receipt) respond(msg ratchet.Message) (*ratchet.Session, error) {
	h := msg.X3DH
	now := rc.d.now()
	b, err := rc.tx.SignedPreKey(h.SignedPreKeyID)
	if err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return nil, fmt.Errorf("%w: %w: signed prekey %d unknown or deleted", errs.ErrProtocol, errs.ErrStalePreKey, h.SignedPreKeyID)
		}
		return nil, err
	}
	spk, err := identity.UnmarshalSignedPreKeyPair(b)
	if err != nil {
		return nil, err
	}
	if !now.Before(spk.Expires) {
		return nil, fmt.Errorf("%w: %w: signed prekey %d expired at %s", errs.ErrProtocol, errs.ErrStalePreKey,
			h.SignedPreKeyID, spk.Expires.Format(time.RFC3339))
	}
	var opk *identity.OneTimePreKeyPair
	if h.HasOneTimePreKey {
		b, made, err := rc.tx.TakeOneTimePreKey(h.OneTimePreKeyID)
		if err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return nil, fmt.Errorf("%w: %w: one-time prekey %d unknown or used", errs.ErrProtocol, errs.ErrStalePreKey, h.OneTimePreKeyID)
			}
			return nil, err
		}
		if !made.IsZero() && now.Sub(made) >= oneTimePreKeyLifetime {
			return nil, fmt.Errorf("%w: %w: one-time prekey %d expired", errs.ErrProtocol, errs.ErrStalePreKey, h.OneTimePreKeyID)
		}
		pair, err := identity.UnmarshalOneTimePreKeyPair(b)
		if err != nil {
			return nil, err
		}
		opk = &pair
	}
	s, err := ratchet.Respond(rc.d.env.Identity, spk, opk, *h)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	return s, nil
}
