package dm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// errQueueEmpty ends a deliverer that has nothing left to send.
var errQueueEmpty = errors.New("outbox empty")

// deliver sends p's queue until it is empty or something fails. Once p has
// been unreachable for DepositAfter, it deposits the queue in one of p's
// mailboxes instead.
func (o *outbox) deliver(ctx context.Context, p peer.ID) error {
	err := o.deliverDirect(ctx, p)
	if err == nil || errors.Is(err, errQueueEmpty) || ctx.Err() != nil {
		o.mu.Lock()
		delete(o.unreachable, p)
		o.mu.Unlock()
		return err
	}
	if o.d.cfg.Mailboxes == nil {
		return err
	}
	o.mu.Lock()
	since, ok := o.unreachable[p]
	if !ok {
		since = time.Now()
		o.unreachable[p] = since
	}
	o.mu.Unlock()
	if time.Since(since) < o.d.cfg.DepositAfter {
		return err
	}
	empty, derr := o.d.depositQueued(ctx, p)
	switch {
	case derr == nil && empty:
		return errQueueEmpty
	case derr == nil:
		return err
	case errors.Is(derr, errs.ErrNoMailbox), errors.Is(derr, errs.ErrMailboxRefused):
		o.d.env.Log.Debug("outbox: not deposited", "to", p, "err", derr)
	default:
		o.d.env.Log.Info("outbox: deposit failed", "to", p, "err", derr)
	}
	return err
}

// deliverDirect sends p's queue over a DM stream until it is empty or
// something fails.
func (o *outbox) deliverDirect(ctx context.Context, p peer.ID) error {
	d := o.d
	if err := d.env.Net.Connect(ctx, p); err != nil {
		return err
	}
	if err := d.ensureSession(ctx, p); err != nil {
		return err
	}
	// Held across each round, from encryptQueued's read to the floor's
	// raise: the raise is only right on the entry that read saw.
	ps := d.peers.acquire(p)
	defer d.peers.release(ps)
	for round := 0; ; round++ {
		entries, err := d.encryptQueued(p)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return errQueueEmpty
		}
		if err := d.sendFrames(ctx, p, entries); err != nil {
			return err
		}
		// All acked: later reads need not look before the newest of them.
		// Entries are created with strictly increasing times (sendTime).
		ps.mu.Lock()
		if ps.floorReset {
			// Entries were queued outside this peer's lock meanwhile (group
			// keys): one of them may be older than these; read from the start.
			ps.floorReset = false
		} else if last := entries[len(entries)-1].Created; !last.Before(ps.outboxFloor) {
			ps.outboxFloor = last.Add(time.Nanosecond)
		}
		ps.mu.Unlock()
	}
}

// ensureSession starts a session with p from a freshly fetched bundle when
// there is none. The session is persisted with the first encrypted message.
func (d *Service) ensureSession(ctx context.Context, p peer.ID) error {
	return d.ensureSessionFrom(ctx, p, d.fetchBundle)
}

// ensureSessionFrom is ensureSession with the bundle from fetch: p itself,
// or one of p's mailboxes.
func (d *Service) ensureSessionFrom(ctx context.Context, p peer.ID, fetch func(context.Context, peer.ID) (identity.Bundle, error)) error {
	ps := d.peers.acquire(p) // held while fetching: the session goes in this entry
	defer d.peers.release(ps)
	ps.mu.Lock()
	var err error
	if !ps.loaded {
		err = d.env.Store.View(func(tx *storage.Txn) error { return ps.load(tx, p) })
	}
	has := ps.cur != nil
	ps.mu.Unlock()
	if err != nil || has {
		return err
	}
	b, err := fetch(ctx, p)
	if err != nil {
		return err
	}
	s, err := ratchet.Initiate(d.env.Identity, b, time.Now())
	if err != nil {
		return err
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	err = d.env.Store.Update(func(tx *storage.Txn) error {
		// A failed transaction may have dropped the cache while we
		// fetched: read the store again, so that a session started
		// meanwhile (ours, or the peer's first message) is kept.
		if err := ps.load(tx, p); err != nil {
			return err
		}
		if ps.cur == nil {
			ps.cur = s
		}
		if err := tx.PutSetting(difficultyKey(p), []byte{b.StampDifficulty}); err != nil {
			return err
		}
		return ps.save(tx, p)
	})
	if err != nil {
		ps.invalidate() // s may be in the cache, not in the store
	}
	return err
}

func difficultyKey(p peer.ID) string { return "stamp-difficulty/" + p.String() }

// encryptQueued encrypts the queue's entries that have no frame yet, in
// order, persisting each ciphertext with the session in one transaction so it
// is retransmitted, never re-encrypted. It returns every queued entry.
func (d *Service) encryptQueued(p peer.ID) ([]storage.OutboxEntry, error) {
	ps := d.peers.acquire(p)
	defer d.peers.release(ps)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var entries []storage.OutboxEntry
	for {
		more := false
		err := d.updateSessions(ps, p, func(tx *storage.Txn) error {
			var err error
			if entries, err = tx.OutboxFrom(p, ps.outboxFloor); err != nil {
				return err
			}
			more, err = d.sealPending(tx, ps, p, entries)
			return err
		})
		if err != nil {
			return nil, err
		}
		if !more {
			ps.sealOK = true // every entry it found is encrypted, in order
			return entries, nil
		}
	}
}

// sendFrames writes the entries' frames on a new DM stream and applies acks
// as they come, until all are acked or something fails.
func (d *Service) sendFrames(ctx context.Context, p peer.ID, entries []storage.OutboxEntry) error {
	s, err := d.env.Net.Host().NewStream(network.WithAllowLimitedConn(ctx, "dm"), p, ProtocolDM)
	if err != nil {
		return fmt.Errorf("dm stream: %w", err)
	}
	defer s.Close()
	defer context.AfterFunc(ctx, func() { s.Reset() })() // Close ends a blocked exchange
	writeErr := make(chan error, 1)
	pending := newInFlight(entries)
	acksDone := make(chan struct{})
	stopWriter := sync.OnceFunc(func() { close(acksDone) })
	defer stopWriter()
	go func() {
		w := bufio.NewWriterSize(s, 64<<10)
		for _, e := range entries {
			if err := frame.WriteRaw(w, e.Frame); err != nil {
				writeErr <- err
				return
			}
		}
		if err := w.Flush(); err != nil {
			writeErr <- err
			return
		}
		// Messages still unacked after a moment show as sent; on a fast
		// link the acks come first and spare the store a commit.
		select {
		case <-acksDone:
			writeErr <- nil
		case <-time.After(sentGrace):
			writeErr <- d.markSent(p, pending.unacked())
		}
	}()
	r := bufio.NewReaderSize(s, 64<<10)
	for pending.left() > 0 {
		_ = s.SetReadDeadline(time.Now().Add(ackTimeout))
		acked, retry, err := readAcks(r, pending)
		if len(acked) > 0 {
			if aerr := d.applyAcks(p, acked); aerr != nil {
				s.Reset()
				stopWriter()
				<-writeErr
				return aerr
			}
		}
		if err != nil || retry != "" {
			s.Reset()
			stopWriter()
			<-writeErr
			if err == nil {
				err = fmt.Errorf("%s asked to retry later: %s", p.ShortString(), retry)
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// No ack for ackTimeout: the link is likely dead (the peer's
				// NAT changed its address, a laptop slept) though libp2p still
				// counts it. Close it so that the next attempt dials anew,
				// through the peer's current addresses or the DHT.
				_ = d.env.Net.Host().Network().ClosePeer(p)
			}
			return err
		}
	}
	stopWriter()
	return <-writeErr
}

// inFlight is the entries written to a stream and not yet acked, by ID.
// The ack reader takes them out; the writer's grace timer reads what is
// left.
type inFlight struct {
	mu sync.Mutex
	m  map[storage.MessageID]time.Time // entry ID to its Created
}

func newInFlight(entries []storage.OutboxEntry) *inFlight {
	f := &inFlight{m: make(map[storage.MessageID]time.Time, len(entries))}
	for _, e := range entries {
		f.m[e.ID] = e.Created
	}
	return f
}

func (f *inFlight) left() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.m)
}

// take removes id and returns its Created; ok is false if it is not in flight.
func (f *inFlight) take(id storage.MessageID) (created time.Time, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	created, ok = f.m[id]
	delete(f.m, id)
	return created, ok
}

func (f *inFlight) has(id storage.MessageID) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.m[id]
	return ok
}

func (f *inFlight) unacked() []storage.MessageID {
	f.mu.Lock()
	defer f.mu.Unlock()
	ids := make([]storage.MessageID, 0, len(f.m))
	for id := range f.m {
		ids = append(ids, id)
	}
	return ids
}

// ackedEntry is an outbox entry as read: its ID and Created (acked, or
// leaving the outbox otherwise).
type ackedEntry struct {
	id      storage.MessageID
	created time.Time
}

// readAcks reads one ack, then every ack already buffered.
func readAcks(r *bufio.Reader, pending *inFlight) (acked []ackedEntry, retry string, err error) {
	for {
		var f dmpb.Frame
		if err := frame.Read(r, &f, maxFrameSize); err != nil {
			return acked, "", err
		}
		a := f.GetAck()
		if a == nil {
			return acked, "", fmt.Errorf("%w: expected an ack", errs.ErrProtocol)
		}
		id, err := messageIDFrom(a.Id)
		if err != nil {
			return acked, "", err
		}
		if !pending.has(id) {
			return acked, "", fmt.Errorf("%w: ack for a message not sent", errs.ErrProtocol)
		}
		if a.Status != dmpb.Ack_OK {
			return acked, a.Reason, nil
		}
		created, _ := pending.take(id)
		acked = append(acked, ackedEntry{id, created})
		if r.Buffered() == 0 || pending.left() == 0 {
			return acked, "", nil
		}
	}
}

// markSent moves queued messages to sent once their frames are written.
func (d *Service) markSent(p peer.ID, ids []storage.MessageID) error {
	if len(ids) == 0 {
		return nil
	}
	return d.advanceEach(p, len(ids), storage.StateSent, func(_ *storage.Txn, i int) (storage.MessageID, time.Time, error) {
		return ids[i], time.Time{}, nil
	})
}

// applyAcks marks acked messages delivered and drops them from the outbox.
func (d *Service) applyAcks(p peer.ID, acked []ackedEntry) error {
	return d.dequeueAll(p, acked, storage.StateDelivered)
}

// dequeueAll drops outbox entries read from p's outbox (an ID and its
// Created) and moves their messages forward to state s, in one
// transaction, then publishes the changes. A message's entry is created
// with the time it was sent, so each message is first looked for there.
func (d *Service) dequeueAll(p peer.ID, es []ackedEntry, s storage.MessageState) error {
	return d.advanceEach(p, len(es), s, func(tx *storage.Txn, i int) (storage.MessageID, time.Time, error) {
		return es[i].id, es[i].created, tx.DeleteOutboxAt(p, es[i].created, es[i].id)
	})
}

// advanceEach moves n of our messages to p forward to state s in one
// transaction: step(i) does what the i-th needs first (dropping its outbox
// entry) and names it, with the time it was likely sent (zero: unknown).
// Once committed it publishes the changes.
func (d *Service) advanceEach(p peer.ID, n int, s storage.MessageState,
	step func(tx *storage.Txn, i int) (id storage.MessageID, sent time.Time, err error)) error {
	var events []event.Event
	err := d.env.Store.Update(func(tx *storage.Txn) error {
		events = events[:0]
		for i := range n {
			id, sent, err := step(tx, i)
			if err != nil {
				return err
			}
			e, err := advanceState(tx, p, id, sent, s)
			if err != nil {
				return err
			}
			if e != nil {
				events = append(events, *e)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range events {
		d.env.Bus.Publish(e)
	}
	return nil
}

// advanceState moves one of our outbound messages forward to state s, never
// back. Control messages (receipts, profiles) are not stored: nothing to do.
// A message is read where sent says, when given, without its index (an
// ack's entry was created with the message's sent time), else by ID.
func advanceState(tx *storage.Txn, p peer.ID, id storage.MessageID, sent time.Time, s storage.MessageState) (*event.Event, error) {
	m, err := storage.Message{}, storage.ErrNotFound
	if !sent.IsZero() {
		m, err = tx.MessageAt(p, sent, id)
	}
	if errors.Is(err, storage.ErrNotFound) {
		m, err = tx.Message(p, id)
	}
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if m.Direction != storage.Outbound || !m.State.Before(s) {
		return nil, nil
	}
	if err := tx.SetStateOf(m, s); err != nil {
		return nil, err
	}
	m.State = s
	return &event.Event{Type: event.MessageState, Peer: p, Message: &m}, nil
}
