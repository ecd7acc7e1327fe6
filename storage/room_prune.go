package storage

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// roomDeleteBatch is how many room messages (three keys each) the Store's
// batched deletes remove per transaction: far below what Badger takes in one
// commit.
const roomDeleteBatch = 2048

// roomVictim is a room message to delete, as found in the recency index.
type roomVictim struct {
	timeKey []byte
	id      [32]byte
	sender  peer.ID
	seq     uint64
}

// roomVictimAt decodes the iterator's current item, a key of a room's
// recency index (prefix, then the sent time and the message ID) with its
// reference, into the message to delete.
func roomVictimAt(it *badger.Iterator, prefix []byte) (roomVictim, error) {
	item := it.Item()
	k := item.Key()
	if len(k) != len(prefix)+8+32 {
		return roomVictim{}, fmt.Errorf("%w: recency key of %d bytes", ErrCorrupt, len(k))
	}
	v := roomVictim{timeKey: item.KeyCopy(nil), id: [32]byte(k[len(prefix)+8:])}
	err := item.Value(func(ref []byte) error {
		var err error
		v.sender, v.seq, err = decodeRoomRef(ref) // the sender is a copy
		return err
	})
	return v, err
}

// oldestRoomMessages returns up to limit of room's oldest messages, in
// recency order.
func (t *Txn) oldestRoomMessages(room RoomID, limit int) ([]roomVictim, error) {
	prefix := roomKey(prefixRoomTime, room, 0)
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var vs []roomVictim
	for it.Rewind(); it.Valid() && len(vs) < limit; it.Next() {
		v, err := roomVictimAt(it, prefix)
		if err != nil {
			return nil, err
		}
		vs = append(vs, v)
	}
	return vs, nil
}

// deleteRoomMessages deletes the messages vs with their index keys. With
// raiseMarks, it raises each sender's high-water mark to at least the highest
// seq deleted, then past the stored successors.
func (t *Txn) deleteRoomMessages(room RoomID, vs []roomVictim, raiseMarks bool) error {
	highest := make(map[peer.ID]uint64)
	for _, v := range vs {
		k, err := roomMessageKey(room, v.sender, v.seq)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		for _, k := range [][]byte{k, v.timeKey, roomIndexKey(room, v.id)} {
			if err := t.delete(k); err != nil {
				return err
			}
		}
		highest[v.sender] = max(highest[v.sender], v.seq)
	}
	if !raiseMarks {
		return nil
	}
	for sender, seq := range highest {
		hw, _, err := t.highWater(room, sender)
		if err != nil {
			return err
		}
		if seq > hw {
			if err := t.raiseHighWater(room, sender, seq); err != nil {
				return err
			}
		}
	}
	return nil
}

// DeleteRoom does what [Txn.DeleteRoom] does for a room of any size: it
// deletes its ballots, then its messages, oldest first, in transactions of
// a few thousand, and the rest (the room record, the high-water marks) in
// a last one. If it fails or the process dies half-way, the room has fewer
// ballots or messages but is consistent, and calling it again finishes the
// job.
func (s *Store) DeleteRoom(room RoomID) error {
	if _, err := s.pruneRoomBallots(room, allBallots); err != nil {
		return fmt.Errorf("storage: delete room %s: %w", room, err)
	}
	for {
		var done bool
		err := s.Update(func(tx *Txn) error {
			vs, err := tx.oldestRoomMessages(room, roomDeleteBatch)
			if err == nil && len(vs) < roomDeleteBatch {
				done = true
				return tx.DeleteRoom(room)
			}
			if err == nil {
				err = tx.deleteRoomMessages(room, vs, false)
			}
			return wrap("delete room "+room.String(), err)
		})
		if err != nil || done {
			return err
		}
	}
}

// RoomMessageTotals returns how many messages room holds and how many bytes
// their encodings (RoomMessage.Data) take: what a caller bounding the room
// on write seeds its running totals with. It reads every message of the
// room.
func (t *Txn) RoomMessageTotals(room RoomID) (count int, size int64, err error) {
	prefix := roomKey(prefixRoomMessage, room, 0)
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true, PrefetchSize: 100})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		var n int
		if err := it.Item().Value(func(v []byte) error {
			var err error
			n, err = roomDataSize(v)
			return err
		}); err != nil {
			return 0, 0, fmt.Errorf("storage: room totals %s: %w", room, err)
		}
		count++
		size += int64(n)
	}
	return count, size, nil
}

// roomDataSize returns the length of the Data of an encoded room message
// record.
func roomDataSize(record []byte) (int, error) {
	var r storepb.RoomMessage
	if err := proto.Unmarshal(record, &r); err != nil {
		return 0, fmt.Errorf("%w: room message: %w", ErrCorrupt, err)
	}
	return len(r.GetData()), nil
}

// DropOldestRoomMessages deletes room's oldest messages (by Sent) until it
// has deleted at least count of them, holding at least size bytes of
// encodings (RoomMessage.Data), and every message sent before olderThan
// (zero: none); fewer if the room runs out. It returns how many messages it
// deleted and their bytes, so that a caller keeping running totals (see
// [Txn.RoomMessageTotals]) can lower them. It raises high-water marks over
// what it deletes (see [Txn.RoomHighWater]), so that sync does not fetch
// them again, and works in transactions of a few thousand messages, each
// leaving the room consistent: if it fails half-way the room is merely
// pruned less, and calling it again finishes the job.
func (s *Store) DropOldestRoomMessages(room RoomID, count int, size int64, olderThan time.Time) (int, int64, error) {
	var cutoff uint64
	if !olderThan.IsZero() {
		var err error
		if cutoff, err = timeKey(olderThan); err != nil {
			return 0, 0, fmt.Errorf("storage: drop room messages %s: %w", room, err)
		}
	}
	total, bytes := 0, int64(0)
	for {
		var n int
		var b int64
		var more bool
		err := s.Update(func(tx *Txn) error {
			var err error
			n, b, more, err = tx.dropOldestRoomMessages(room, count-total, size-bytes, cutoff, roomDeleteBatch)
			return err
		})
		if err != nil {
			return total, bytes, fmt.Errorf("storage: drop room messages %s: %w", room, err)
		}
		total, bytes = total+n, bytes+b
		if !more {
			return total, bytes, nil
		}
	}
}

// dropOldestRoomMessages deletes up to limit of room's oldest messages,
// while fewer than count were deleted, fewer than size bytes, or the next is
// sent before cutoff (0: no cutoff). It reports whether it stopped at the
// limit with more to delete.
func (t *Txn) dropOldestRoomMessages(room RoomID, count int, size int64, cutoff uint64, limit int) (n int, bytes int64, more bool, err error) {
	prefix := roomKey(prefixRoomTime, room, 0)
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	var vs []roomVictim
	for it.Rewind(); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) != len(prefix)+8+32 {
			it.Close()
			return 0, 0, false, fmt.Errorf("%w: recency key of %d bytes", ErrCorrupt, len(k))
		}
		if len(vs) >= count && bytes >= size && binary.BigEndian.Uint64(k[len(prefix):]) >= cutoff {
			break
		}
		if len(vs) == limit {
			more = true
			break
		}
		v, err := roomVictimAt(it, prefix)
		var record []byte
		if err == nil {
			var mk []byte
			if mk, err = roomMessageKey(room, v.sender, v.seq); err == nil {
				record, err = t.get(mk)
			}
		}
		var dn int
		if err == nil {
			dn, err = roomDataSize(record)
		}
		if err != nil {
			it.Close()
			return 0, 0, false, err
		}
		vs = append(vs, v)
		bytes += int64(dn)
	}
	it.Close()
	if err := t.deleteRoomMessages(room, vs, true); err != nil {
		return 0, 0, false, err
	}
	return len(vs), bytes, more, nil
}
