package storage

import (
	"fmt"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// deleteBatch is how many messages Store.DeleteConversation deletes per
// transaction: far below what Badger takes in one commit.
const deleteBatch = 4096

// DeleteConversation does what [Txn.DeleteConversation] does for a
// conversation of any length: it deletes the oldest messages in transactions
// of a few thousand, each keeping the summary's counts right, and the rest
// (with the summary and the outbox entries) in a last one. If it fails or
// the process dies half-way, the conversation is shorter but consistent, and
// calling it again finishes the job.
func (s *Store) DeleteConversation(p peer.ID) error {
	for {
		var done bool
		err := s.Update(func(tx *Txn) error {
			n, err := tx.deleteOldestMessages(p, deleteBatch)
			if err != nil {
				return err
			}
			if n < deleteBatch {
				done = true
				return tx.DeleteConversation(p)
			}
			return nil
		})
		if err != nil || done {
			return err
		}
	}
}

// deleteOldestMessages deletes up to limit of p's oldest messages with their
// index keys, updates the summary's Count and Unread, and returns how many it
// deleted. The newest message is the summary's Last, so it is deleted only
// together with the summary, by DeleteConversation.
func (t *Txn) deleteOldestMessages(p peer.ID, limit int) (int, error) {
	prefix, err := peerKey(prefixMessage, p, 0)
	if err != nil {
		return 0, fmt.Errorf("storage: delete messages: %w", err)
	}
	r, err := t.summary(p)
	if err != nil {
		return 0, fmt.Errorf("storage: delete messages: %w", err)
	}
	type victim struct {
		key    []byte
		id     MessageID
		unread bool
	}
	var vs []victim
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	for it.Rewind(); it.Valid() && len(vs) < limit; it.Next() {
		item := it.Item()
		sent, id, err := splitMessageKey(prefix, item.Key())
		if err == nil && uint64(sent) == uint64(r.GetLastSentUnixNano()) && string(id[:]) == string(r.GetLastId()) {
			break // the last message: leave it to DeleteConversation
		}
		var m Message
		if err == nil {
			err = item.Value(func(v []byte) error {
				m, err = decodeMessage(p, sent, id, v)
				return err
			})
		}
		if err != nil {
			it.Close()
			return 0, fmt.Errorf("storage: delete messages: %w", err)
		}
		vs = append(vs, victim{item.KeyCopy(nil), id, m.unread()})
	}
	it.Close()
	for _, v := range vs {
		ik, err := messageIndexKey(p, v.id)
		if err != nil {
			return 0, fmt.Errorf("storage: delete messages: %w", err)
		}
		if err := t.delete(v.key); err != nil {
			return 0, fmt.Errorf("storage: delete messages: %w", err)
		}
		if err := t.delete(ik); err != nil {
			return 0, fmt.Errorf("storage: delete messages: %w", err)
		}
		r.Count = max(r.GetCount(), 1) - 1
		if v.unread {
			r.Unread = max(r.GetUnread(), 1) - 1
		}
	}
	if len(vs) > 0 {
		k, err := peerKey(prefixConversation, p, 0)
		if err != nil {
			return 0, fmt.Errorf("storage: delete messages: %w", err)
		}
		if err := t.setProto(k, r); err != nil {
			return 0, fmt.Errorf("storage: delete messages: %w", err)
		}
	}
	return len(vs), nil
}
