package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
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

// outboxIndexKey is x/<peer><id>; its value is the entry's created time.
func outboxIndexKey(p peer.ID, id MessageID) ([]byte, error) {
	k, err := peerKey(prefixOutboxIndex, p, len(id))
	if err != nil {
		return nil, err
	}
	return append(k, id[:]...), nil
}

// outboxCreated looks up the created time of entry (p, id) in the index.
func (t *Txn) outboxCreated(p peer.ID, id MessageID) (uint64, error) {
	ik, err := outboxIndexKey(p, id)
	if err != nil {
		return 0, err
	}
	b, err := t.get(ik)
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: outbox index of %d bytes", ErrCorrupt, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// PutOutbox inserts or replaces the entry (e.Peer, e.ID). Its place in the
// FIFO is e.Created; replacing an entry with a different Created moves it.
func (t *Txn) PutOutbox(e OutboxEntry) error {
	if err := t.putOutbox(e); err != nil {
		return fmt.Errorf("storage: put outbox %s: %w", e.ID, err)
	}
	return nil
}

func (t *Txn) putOutbox(e OutboxEntry) error {
	if e.ID.IsZero() {
		return fmt.Errorf("%w: zero message ID", ErrInvalid)
	}
	if e.Attempts < 0 {
		return fmt.Errorf("%w: %d attempts", ErrInvalid, e.Attempts)
	}
	created, err := timeKey(e.Created)
	if err != nil {
		return err
	}
	switch old, err := t.outboxCreated(e.Peer, e.ID); {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return err
	case old != created:
		ok, err := outboxKey(e.Peer, old, e.ID)
		if err != nil {
			return err
		}
		if err := t.delete(ok); err != nil {
			return err
		}
	}
	return t.writeOutbox(e, true)
}

// AddOutbox inserts e, which the caller knows is not queued (a fresh ID):
// PutOutbox without the lookup of an existing entry.
func (t *Txn) AddOutbox(e OutboxEntry) error {
	if err := t.writeOutbox(e, true); err != nil {
		return fmt.Errorf("storage: add outbox %s: %w", e.ID, err)
	}
	return nil
}

// ReplaceOutbox rewrites e, read from the outbox in this transaction, with
// the same Created (its frame set, say): PutOutbox without the lookup.
func (t *Txn) ReplaceOutbox(e OutboxEntry) error {
	if err := t.writeOutbox(e, false); err != nil {
		return fmt.Errorf("storage: replace outbox %s: %w", e.ID, err)
	}
	return nil
}

// writeOutbox writes e's record under its Created, and the index when index.
func (t *Txn) writeOutbox(e OutboxEntry, index bool) error {
	if e.ID.IsZero() {
		return fmt.Errorf("%w: zero message ID", ErrInvalid)
	}
	if e.Attempts < 0 {
		return fmt.Errorf("%w: %d attempts", ErrInvalid, e.Attempts)
	}
	created, err := timeKey(e.Created)
	if err != nil {
		return err
	}
	k, err := outboxKey(e.Peer, created, e.ID)
	if err != nil {
		return err
	}
	r := &storepb.OutboxEntry{
		Frame:           e.Frame,
		Content:         e.Content,
		Attempts:        uint32(e.Attempts),
		NextTryUnixNano: toUnixNano(e.NextTry),
	}
	if err := t.setProto(k, r); err != nil {
		return err
	}
	if !index {
		return nil
	}
	ik, err := outboxIndexKey(e.Peer, e.ID)
	if err != nil {
		return err
	}
	return t.set(ik, binary.BigEndian.AppendUint64(nil, created))
}

// DeleteOutboxAt deletes the entry (p, id) created at created, as read from
// the outbox: DeleteOutbox without the lookup of its index. Deleting a
// missing entry is not an error.
func (t *Txn) DeleteOutboxAt(p peer.ID, created time.Time, id MessageID) error {
	c, err := timeKey(created)
	if err != nil {
		return fmt.Errorf("storage: delete outbox %s: %w", id, err)
	}
	return t.deleteOutbox(p, c, id)
}

// DeleteOutbox deletes the entry (p, id); deleting a missing entry is not an
// error.
func (t *Txn) DeleteOutbox(p peer.ID, id MessageID) error {
	created, err := t.outboxCreated(p, id)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("storage: delete outbox %s: %w", id, err)
	}
	return t.deleteOutbox(p, created, id)
}

// deleteOutbox deletes the entry (p, id) created at the time key created,
// and its index.
func (t *Txn) deleteOutbox(p peer.ID, created uint64, id MessageID) error {
	k, err := outboxKey(p, created, id)
	if err != nil {
		return fmt.Errorf("storage: delete outbox %s: %w", id, err)
	}
	ik, err := outboxIndexKey(p, id)
	if err != nil {
		return fmt.Errorf("storage: delete outbox %s: %w", id, err)
	}
	if err := t.delete(k); err != nil {
		return fmt.Errorf("storage: delete outbox %s: %w", id, err)
	}
	return wrap("delete outbox", t.delete(ik))
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
