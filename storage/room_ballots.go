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

// RoomBallot is a ballot the host of a live room keeps: a listener's upvote
// of a question (Emoji empty) or reaction to a message, handed to the host
// instead of published on the room's topic. It is no part of the room's
// history (it has no sequence number): the host tallies ballots and tells
// the room the totals. A voter has at most one ballot per target and emoji.
type RoomBallot struct {
	Room   RoomID
	Voter  peer.ID
	Target [32]byte  // the question's or message's ID
	Emoji  string    // empty: an upvote; at most MaxBallotEmoji bytes
	Time   time.Time // the ballot's signed time
	Data   []byte    // the encoded crypto/room.Ballot
}

// MaxBallotEmoji bounds a stored ballot's emoji, in bytes (a room's
// reactions are at most 32).
const MaxBallotEmoji = 64

// ballotTail is the part of a ballot's keys after the room (and, in the
// recency index, the time): <voter><target 32><emoji>, the voter and the
// emoji length-prefixed.
func ballotTail(b RoomBallot) ([]byte, error) {
	switch {
	case len(b.Voter) == 0 || len(b.Voter) > maxPeerIDLen:
		return nil, fmt.Errorf("%w: ballot voter of %d bytes", ErrInvalid, len(b.Voter))
	case b.Target == [32]byte{}:
		return nil, fmt.Errorf("%w: ballot of a zero target", ErrInvalid)
	case len(b.Emoji) > MaxBallotEmoji:
		return nil, fmt.Errorf("%w: ballot emoji of %d bytes", ErrInvalid, len(b.Emoji))
	}
	k := make([]byte, 0, 1+len(b.Voter)+32+1+len(b.Emoji))
	k = append(k, byte(len(b.Voter)))
	k = append(k, b.Voter...)
	k = append(k, b.Target[:]...)
	k = append(k, byte(len(b.Emoji)))
	return append(k, b.Emoji...), nil
}

// parseBallotTail is the inverse of ballotTail.
func parseBallotTail(tail []byte) (voter peer.ID, target [32]byte, emoji string, err error) {
	bad := fmt.Errorf("%w: ballot key of %d bytes", ErrCorrupt, len(tail))
	if len(tail) < 1 || tail[0] == 0 || len(tail) < 1+int(tail[0])+32+1 {
		return "", target, "", bad
	}
	n := int(tail[0])
	voter = peer.ID(bytes.Clone(tail[1 : 1+n]))
	rest := tail[1+n:]
	copy(target[:], rest[:32])
	rest = rest[32:]
	if len(rest) != 1+int(rest[0]) || int(rest[0]) > MaxBallotEmoji {
		return "", target, "", bad
	}
	return voter, target, string(rest[1:]), nil
}

// roomBallotKey is rb/<room><voter><target><emoji>.
func roomBallotKey(room RoomID, tail []byte) []byte {
	return append(roomKey(prefixRoomBallot, room, len(tail)), tail...)
}

// roomBallotTimeKey is rbt/<room><time><voter><target><emoji>: the
// recency index that pruning walks.
func roomBallotTimeKey(room RoomID, t uint64, tail []byte) []byte {
	k := roomKey(prefixRoomBallotTime, room, 8+len(tail))
	k = binary.BigEndian.AppendUint64(k, t)
	return append(k, tail...)
}

// roomBallotCountKey is rbn/<room>: how many ballots the room holds.
func roomBallotCountKey(room RoomID) []byte { return roomKey(prefixRoomBallotCount, room, 0) }

// RoomBallotCount returns how many ballots room holds.
func (t *Txn) RoomBallotCount(room RoomID) (int, error) {
	b, err := t.get(roomBallotCountKey(room))
	if errors.Is(err, ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("storage: room ballot count: %w", err)
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("storage: room ballot count: %w: %d bytes", ErrCorrupt, len(b))
	}
	return int(binary.BigEndian.Uint64(b)), nil
}

func (t *Txn) addRoomBallotCount(room RoomID, delta int) error {
	n, err := t.RoomBallotCount(room)
	if err != nil {
		return err
	}
	if n += delta; n <= 0 {
		return t.delete(roomBallotCountKey(room))
	}
	return t.set(roomBallotCountKey(room), binary.BigEndian.AppendUint64(nil, uint64(n)))
}

// BallotLimits bound the ballots a room holds: in all, and of one voter
// (who might otherwise fill the room's share alone, with reactions of
// every emoji to every message).
type BallotLimits struct {
	Room, Voter int
}

// PutRoomBallot stores b and reports whether it was added. It is
// idempotent on (room, voter, target, emoji): a ballot stored already, the
// same or another of the voter's for that target and emoji, stays, and the
// call returns false. A room holds at most limits.Room ballots, and of one
// voter limits.Voter: past either a new one is refused with ErrFull.
// Checking the voter's costs a walk over its keys, up to limits.Voter.
func (t *Txn) PutRoomBallot(b RoomBallot, limits BallotLimits) (added bool, err error) {
	added, err = t.putRoomBallot(b, limits)
	if err != nil {
		return false, fmt.Errorf("storage: put room ballot: %w", err)
	}
	return added, nil
}

func (t *Txn) putRoomBallot(b RoomBallot, limits BallotLimits) (bool, error) {
	if b.Room.IsZero() {
		return false, fmt.Errorf("%w: zero room ID", ErrInvalid)
	}
	if len(b.Data) == 0 {
		return false, fmt.Errorf("%w: empty ballot", ErrInvalid)
	}
	at, err := timeKey(b.Time)
	if err != nil {
		return false, err
	}
	tail, err := ballotTail(b)
	if err != nil {
		return false, err
	}
	k := roomBallotKey(b.Room, tail)
	if ok, err := t.has(k); err != nil || ok {
		return false, err
	}
	n, err := t.RoomBallotCount(b.Room)
	if err != nil {
		return false, err
	}
	if n >= limits.Room {
		return false, fmt.Errorf("%w: room %s holds %d ballots, its limit", ErrFull, b.Room, n)
	}
	if n, err := t.countKeys(roomBallotKey(b.Room, tail[:1+len(b.Voter)]), limits.Voter); err != nil || n >= limits.Voter {
		if err != nil {
			return false, err
		}
		return false, fmt.Errorf("%w: %s holds %d ballots in room %s, its limit", ErrFull, b.Voter, n, b.Room)
	}
	if err := t.setProto(k, &storepb.RoomBallot{TimeUnixNano: int64(at), Data: b.Data}); err != nil {
		return false, err
	}
	if err := t.set(roomBallotTimeKey(b.Room, at, tail), nil); err != nil {
		return false, err
	}
	return true, t.addRoomBallotCount(b.Room, 1)
}

// countKeys counts the keys under prefix, up to limit.
func (t *Txn) countKeys(prefix []byte, limit int) (int, error) {
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	defer it.Close()
	n := 0
	for it.Seek(prefix); it.Valid() && n < limit; it.Next() {
		n++
	}
	return n, nil
}

// EachRoomBallot calls fn with every ballot of room, by voter, target and
// emoji, until fn returns an error, which it returns. b.Data is fn's to
// keep.
func (t *Txn) EachRoomBallot(room RoomID, fn func(b RoomBallot) error) error {
	prefix := roomKey(prefixRoomBallot, room, 0)
	err := t.each(prefix, func(k, v []byte) error {
		b, err := decodeRoomBallot(room, k[len(prefix):], v)
		if err != nil {
			return err
		}
		return fn(b)
	})
	if err != nil {
		return fmt.Errorf("storage: room ballots: %w", err)
	}
	return nil
}

// decodeRoomBallot builds a ballot from its key's tail and its record
// (valid only during the call: copied).
func decodeRoomBallot(room RoomID, tail, v []byte) (RoomBallot, error) {
	voter, target, emoji, err := parseBallotTail(tail)
	if err != nil {
		return RoomBallot{}, err
	}
	var r storepb.RoomBallot
	if err := proto.Unmarshal(v, &r); err != nil {
		return RoomBallot{}, fmt.Errorf("%w: room ballot: %w", ErrCorrupt, err)
	}
	if r.GetTimeUnixNano() <= 0 || len(r.GetData()) == 0 {
		return RoomBallot{}, fmt.Errorf("%w: room ballot record", ErrCorrupt)
	}
	return RoomBallot{Room: room, Voter: voter, Target: target, Emoji: emoji,
		Time: unixNano(r.GetTimeUnixNano()), Data: bytes.Clone(r.GetData())}, nil
}

// PruneRoomBallots deletes room's ballots whose time is before olderThan,
// and returns how many; a zero olderThan prunes nothing. It does all of it in this transaction, so pruning
// more than some 4,000 ballots at once fails with ErrTxnTooBig: use
// [Store.PruneRoomBallots].
func (t *Txn) PruneRoomBallots(room RoomID, olderThan time.Time) (int, error) {
	cutoff, err := ballotCutoff(olderThan)
	if err != nil || cutoff == 0 {
		return 0, wrap("prune room ballots "+room.String(), err)
	}
	n, _, err := t.pruneRoomBallots(room, cutoff, -1)
	if err != nil {
		return 0, fmt.Errorf("storage: prune room ballots %s: %w", room, err)
	}
	return n, nil
}

// ballotCutoff is the recency key below which ballots older than
// olderThan sort; 0 (nothing) for the zero time.
func ballotCutoff(olderThan time.Time) (uint64, error) {
	if olderThan.IsZero() {
		return 0, nil
	}
	return timeKey(olderThan)
}

// allBallots is a cutoff above every ballot's time.
const allBallots = 1<<64 - 1

// pruneRoomBallots deletes up to limit (all if negative) of room's ballots
// whose recency key is below cutoff, oldest first, and reports how many and
// whether more may be left.
func (t *Txn) pruneRoomBallots(room RoomID, cutoff uint64, limit int) (int, bool, error) {
	prefix := roomKey(prefixRoomBallotTime, room, 0)
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
	var victims [][]byte
	more := false
	for it.Seek(prefix); it.Valid(); it.Next() {
		k := it.Item().Key()
		if len(k) < len(prefix)+8 {
			it.Close()
			return 0, false, fmt.Errorf("%w: ballot recency key of %d bytes", ErrCorrupt, len(k))
		}
		if binary.BigEndian.Uint64(k[len(prefix):]) >= cutoff {
			break
		}
		if limit >= 0 && len(victims) == limit {
			more = true
			break
		}
		victims = append(victims, it.Item().KeyCopy(nil))
	}
	it.Close()
	for _, tk := range victims {
		tail := tk[len(prefix)+8:]
		if _, _, _, err := parseBallotTail(tail); err != nil {
			return 0, false, err
		}
		if err := t.delete(tk); err != nil {
			return 0, false, err
		}
		if err := t.delete(roomBallotKey(room, tail)); err != nil {
			return 0, false, err
		}
	}
	if len(victims) > 0 {
		if err := t.addRoomBallotCount(room, -len(victims)); err != nil {
			return 0, false, err
		}
	}
	return len(victims), more, nil
}

// roomBallotDeleteBatch is how many ballots (two keys each) the Store's
// batched deletes remove per transaction.
const roomBallotDeleteBatch = 2048

// PruneRoomBallots does what [Txn.PruneRoomBallots] does for any number of
// ballots, in transactions of a few thousand; each leaves the room
// consistent, so calling it again after a failure finishes the job.
func (s *Store) PruneRoomBallots(room RoomID, olderThan time.Time) (int, error) {
	cutoff, err := ballotCutoff(olderThan)
	if err != nil || cutoff == 0 {
		return 0, wrap("prune room ballots "+room.String(), err)
	}
	return s.pruneRoomBallots(room, cutoff)
}

// pruneRoomBallots deletes room's ballots below cutoff in transactions of
// roomBallotDeleteBatch.
func (s *Store) pruneRoomBallots(room RoomID, cutoff uint64) (int, error) {
	total := 0
	for {
		var n int
		var more bool
		err := s.Update(func(tx *Txn) error {
			var err error
			n, more, err = tx.pruneRoomBallots(room, cutoff, roomBallotDeleteBatch)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("storage: prune room ballots %s: %w", room, err)
		}
		total += n
		if !more {
			return total, nil
		}
	}
}
