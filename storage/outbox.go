package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// OutboxEntry is a message the node still has to deliver to Peer.
type OutboxEntry struct {
	ID    MessageID
	Peer  peer.ID
	Frame []byte // encrypted frame once encrypted; nil while waiting for a session
	// Content is what to encrypt when the entry is not a stored message (a
	// control content that must survive a restart, such as a group key):
	// the encoded content, kept until Frame is set.
	Content  []byte
	Attempts int
	NextTry  time.Time
	Created  time.Time // FIFO order per peer
}

// outboxKey is o/<peer><created><id>.
func outboxKey(p peer.ID, created uint64, id MessageID) ([]byte, error) {
	k, err := peerKey(prefixOutbox, p, 8+len(id))
	if err != nil {
		return nil, err
	}
	k = binary.BigEndian.AppendUint64(k, created)
	return append(k, id[:]...), nil
}

// findOutbox returns the created time key of entry (p, id), or ok false.
// There is no index by ID: it reads the keys of p's outbox, without their
// values. The hot path (an ack, a sealed entry rewritten) knows Created and
// never looks; what does (PutOutbox, DeleteOutbox) is rare.
func (t *Txn) findOutbox(p peer.ID, id MessageID) (created uint64, ok bool, err error) {
	prefix, err := peerKey(prefixOutbox, p, 0)
	if err != nil {
		return 0, false, err
	}
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		rest := it.Item().Key()[len(prefix):]
		if len(rest) != 8+len(MessageID{}) {
			return 0, false, fmt.Errorf("%w: outbox key of %d bytes", ErrCorrupt, len(prefix)+len(rest))
		}
		if MessageID(rest[8:]) == id {
			return binary.BigEndian.Uint64(rest), true, nil
		}
	}
	return 0, false, nil
}

// PutOutbox inserts or replaces the entry (e.Peer, e.ID). Its place in the
// FIFO is e.Created; replacing an entry with a different Created moves it.
// It looks for the entry among the peer's (see findOutbox): a caller that
// knows the entry is new uses AddOutbox.
func (t *Txn) PutOutbox(e OutboxEntry) error {
	if err := t.putOutbox(e); err != nil {
		return fmt.Errorf("storage: put outbox %s: %w", e.ID, err)
	}
	return nil
}

func (t *Txn) putOutbox(e OutboxEntry) error {
	created, err := checkOutbox(e)
	if err != nil {
		return err
	}
	old, found, err := t.findOutbox(e.Peer, e.ID)
	if err != nil {
		return err
	}
	if found && old != created {
		k, err := outboxKey(e.Peer, old, e.ID)
		if err != nil {
			return err
		}
		if err := t.delete(k); err != nil {
			return err
		}
	}
	return t.writeOutbox(e)
}

// AddOutbox inserts e, which the caller knows is not queued (a fresh ID):
// PutOutbox without looking for an existing entry.
func (t *Txn) AddOutbox(e OutboxEntry) error {
	if err := t.writeOutbox(e); err != nil {
		return fmt.Errorf("storage: add outbox %s: %w", e.ID, err)
	}
	return nil
}

// ReplaceOutbox rewrites e, read from the outbox in this transaction, with
// the same Created (its frame set, say): PutOutbox without the lookup.
func (t *Txn) ReplaceOutbox(e OutboxEntry) error {
	if err := t.writeOutbox(e); err != nil {
		return fmt.Errorf("storage: replace outbox %s: %w", e.ID, err)
	}
	return nil
}

// checkOutbox refuses an entry the outbox cannot hold and returns its
// Created as a key time.
func checkOutbox(e OutboxEntry) (uint64, error) {
	if e.ID.IsZero() {
		return 0, fmt.Errorf("%w: zero message ID", ErrInvalid)
	}
	if e.Attempts < 0 {
		return 0, fmt.Errorf("%w: %d attempts", ErrInvalid, e.Attempts)
	}
	return timeKey(e.Created)
}

// writeOutbox writes e's record under its Created.
func (t *Txn) writeOutbox(e OutboxEntry) error {
	created, err := checkOutbox(e)
	if err != nil {
		return err
	}
	k, err := outboxKey(e.Peer, created, e.ID)
	if err != nil {
		return err
	}
	return t.setProto(k, &storepb.OutboxEntry{
		Frame:           e.Frame,
		Content:         e.Content,
		Attempts:        uint32(e.Attempts),
		NextTryUnixNano: toUnixNano(e.NextTry),
	})
}

// DeleteOutboxAt deletes the entry (p, id) created at created, as read from
// the outbox. Deleting a missing entry is not an error.
func (t *Txn) DeleteOutboxAt(p peer.ID, created time.Time, id MessageID) error {
	c, err := timeKey(created)
	if err != nil {
		return fmt.Errorf("storage: delete outbox %s: %w", id, err)
	}
	k, err := outboxKey(p, c, id)
	if err != nil {
		return fmt.Errorf("storage: delete outbox %s: %w", id, err)
	}
	return wrap("delete outbox", t.delete(k))
}

// DeleteOutbox deletes the entry (p, id), looking for it among p's (see
// findOutbox); deleting a missing entry is not an error. A caller that read
// the entry uses DeleteOutboxAt.
func (t *Txn) DeleteOutbox(p peer.ID, id MessageID) error {
	created, found, err := t.findOutbox(p, id)
	if err != nil {
		return fmt.Errorf("storage: delete outbox %s: %w", id, err)
	}
	if !found {
		return nil
	}
	k, err := outboxKey(p, created, id)
	if err != nil {
		return fmt.Errorf("storage: delete outbox %s: %w", id, err)
	}
	return wrap("delete outbox", t.delete(k))
}

// Outbox returns p's pending entries, oldest Created first.
func (t *Txn) Outbox(p peer.ID) ([]OutboxEntry, error) { return t.OutboxFrom(p, time.Time{}) }

// OutboxFrom returns p's pending entries created at or after from, oldest
// first. It seeks straight to from: a caller that knows every older entry is
// gone skips the deleted keys they leave behind until compaction, which a
// full scan of a busy outbox would wade through.
func (t *Txn) OutboxFrom(p peer.ID, from time.Time) ([]OutboxEntry, error) {
	prefix, err := peerKey(prefixOutbox, p, 0)
	if err != nil {
		return nil, fmt.Errorf("storage: outbox: %w", err)
	}
	start := prefix
	if !from.IsZero() {
		created, err := timeKey(from)
		if err != nil {
			return nil, fmt.Errorf("storage: outbox: %w", err)
		}
		if start, err = outboxKey(p, created, MessageID{}); err != nil {
			return nil, fmt.Errorf("storage: outbox: %w", err)
		}
	}
	var es []OutboxEntry
	err = t.eachFrom(prefix, start, func(k, v []byte) error {
		rest := k[len(prefix):]
		if len(rest) != 8+len(MessageID{}) {
			return fmt.Errorf("%w: outbox key of %d bytes", ErrCorrupt, len(k))
		}
		var r storepb.OutboxEntry
		if err := proto.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("%w: outbox entry: %w", ErrCorrupt, err)
		}
		es = append(es, OutboxEntry{
			ID:       MessageID(rest[8:]),
			Peer:     p,
			Frame:    r.GetFrame(),
			Content:  r.GetContent(),
			Attempts: int(r.GetAttempts()),
			NextTry:  unixNano(r.GetNextTryUnixNano()),
			Created:  unixNano(int64(binary.BigEndian.Uint64(rest))),
		})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: outbox %s: %w", p, err)
	}
	return es, nil
}

// OutboxPeers returns the peers with pending outbox entries, in key order.
// It skips from one peer to the next without reading their entries.
func (t *Txn) OutboxPeers() ([]peer.ID, error) {
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixOutbox)})
	defer it.Close()
	var ps []peer.ID
	for it.Rewind(); it.Valid(); {
		p, _, err := peerFromKey(prefixOutbox, it.Item().Key())
		if err != nil {
			return nil, fmt.Errorf("storage: outbox peers: %w", err)
		}
		ps = append(ps, p)
		pk, err := peerKey(prefixOutbox, p, 0)
		if err != nil {
			return nil, fmt.Errorf("storage: outbox peers: %w", err)
		}
		// Past every entry of p.
		it.Seek(append(pk, bytes.Repeat([]byte{0xff}, 8+len(MessageID{})+1)...))
	}
	return ps, nil
}
