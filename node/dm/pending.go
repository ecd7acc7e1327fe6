package dm

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/storage"
)

// DefaultFailAfter is how long the outbox tries a message before it gives
// up and marks it failed.
const DefaultFailAfter = 30 * 24 * time.Hour

// MaxKeyBytes bounds an Outgoing's idempotency key.
const MaxKeyBytes = 64

// keyedID is the message ID of a send with an idempotency key: the same key
// to the same peer always names the same message, so a retried send finds
// the first one. The key comes from our own client (random per send), so
// the ID is as unpredictable as a random one.
func keyedID(to peer.ID, key string) storage.MessageID {
	h := sha256.New()
	h.Write([]byte("backchannel/dm/send-key/v1\x00"))
	h.Write([]byte(to))
	h.Write([]byte{0})
	h.Write([]byte(key))
	var id storage.MessageID
	copy(id[:], h.Sum(nil))
	return id
}

// Pending is the user's messages the outbox still tries to deliver (not
// control contents), oldest first per peer.
func (d *Service) Pending() ([]storage.Message, error) {
	var out []storage.Message
	err := d.env.Store.View(func(tx *storage.Txn) error {
		out = out[:0]
		return eachOutboxEntry(tx, func(e storage.OutboxEntry) error {
			m, err := tx.Message(e.Peer, e.ID)
			if errors.Is(err, storage.ErrNotFound) {
				return nil // a control content
			}
			out = append(out, m)
			return err
		})
	})
	return out, err
}

// Cancel stops trying to deliver our message id to p: it leaves the outbox
// and shows failed. A message no longer waiting (delivered, in a mailbox,
// already failed) gives errs.ErrNotFound. One already written to p's stream
// but not acked may still arrive; then its receipt moves it on.
func (d *Service) Cancel(p peer.ID, id storage.MessageID) (storage.Message, error) {
	ps := d.peers.acquire(p)
	defer d.peers.release(ps)
	ps.mu.Lock() // no deliverer of p encrypts or reads the queue meanwhile
	defer ps.mu.Unlock()
	var m storage.Message
	var entry ackedEntry
	err := d.env.Store.View(func(tx *storage.Txn) error {
		es, err := tx.Outbox(p)
		if err != nil {
			return err
		}
		for _, e := range es {
			if e.ID == id {
				entry = ackedEntry{e.ID, e.Created}
				m, err = tx.Message(p, id)
				return err
			}
		}
		return fmt.Errorf("%w: message %s is not waiting to be sent", errs.ErrNotFound, id)
	})
	if err != nil {
		return storage.Message{}, err
	}
	if err := d.dequeueAll(p, []ackedEntry{entry}, storage.StateFailed); err != nil {
		return storage.Message{}, err
	}
	m.State = storage.StateFailed
	return m, nil
}

// failExpired gives up on what has waited in the outbox longer than
// FailAfter: it leaves the outbox, and the user's messages show failed.
func (d *Service) failExpired(now time.Time) error {
	cutoff := now.Add(-d.cfg.FailAfter)
	var due map[peer.ID][]ackedEntry
	err := d.env.Store.View(func(tx *storage.Txn) error {
		due = map[peer.ID][]ackedEntry{}
		return eachOutboxEntry(tx, func(e storage.OutboxEntry) error {
			if e.Created.Before(cutoff) {
				due[e.Peer] = append(due[e.Peer], ackedEntry{e.ID, e.Created})
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for p, es := range due {
		ps := d.peers.acquire(p)
		ps.mu.Lock()
		err := d.dequeueAll(p, es, storage.StateFailed)
		ps.mu.Unlock()
		d.peers.release(ps)
		if err != nil {
			return err
		}
		d.env.Log.Info("outbox: gave up on messages", "to", p, "count", len(es), "after", d.cfg.FailAfter)
	}
	return nil
}

// eachOutboxEntry calls f with every outbox entry, peer by peer, oldest
// first per peer.
func eachOutboxEntry(tx *storage.Txn, f func(storage.OutboxEntry) error) error {
	peers, err := tx.OutboxPeers()
	if err != nil {
		return err
	}
	for _, p := range peers {
		es, err := tx.Outbox(p)
		if err != nil {
			return err
		}
		for _, e := range es {
			if err := f(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// runFailSweeper fails expired outbox entries at start and every hour (a
// quarter of FailAfter when that is shorter: tests).
func (d *Service) runFailSweeper(ctx context.Context) {
	t := time.NewTicker(min(time.Hour, max(d.cfg.FailAfter/4, 10*time.Millisecond)))
	defer t.Stop()
	for {
		if err := d.failExpired(time.Now()); err != nil {
			d.env.Log.Warn("outbox: expiry sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
