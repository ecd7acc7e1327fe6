package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// highWaterKey is rh/<room><sender>; its value is the big-endian uint64 mark.
func highWaterKey(room RoomID, sender peer.ID) ([]byte, error) {
	return roomPeerKey(prefixRoomHigh, room, sender, 0)
}

// highWater reads sender's mark in room, and whether there is one.
func (t *Txn) highWater(room RoomID, sender peer.ID) (uint64, bool, error) {
	k, err := highWaterKey(room, sender)
	if err != nil {
		return 0, false, err
	}
	b, err := t.get(k)
	if errors.Is(err, ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	hw, err := decodeHighWater(b)
	return hw, err == nil, err
}

// decodeHighWater decodes a high-water mark's value.
func decodeHighWater(b []byte) (uint64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: high-water mark of %d bytes", ErrCorrupt, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

func (t *Txn) setHighWater(room RoomID, sender peer.ID, hw uint64) error {
	k, err := highWaterKey(room, sender)
	if err != nil {
		return err
	}
	return t.set(k, binary.BigEndian.AppendUint64(nil, hw))
}

// SkipRoomHistory gives up sender's messages of room up to seq: a node that
// joined late and received only the newest history raises the sender's mark
// past the older rest, so that sync does not pull it back. It never lowers a
// mark.
func (t *Txn) SkipRoomHistory(room RoomID, sender peer.ID, seq uint64) error {
	hw, _, err := t.highWater(room, sender)
	if err != nil {
		return fmt.Errorf("storage: skip room history: %w", err)
	}
	if seq <= hw {
		return nil
	}
	if err := t.raiseHighWater(room, sender, seq); err != nil {
		return fmt.Errorf("storage: skip room history: %w", err)
	}
	return nil
}

// raiseHighWater sets sender's mark to at least seq and then past every
// stored successor: after seq 3 and 1, storing 2 raises the mark to 3.
// Successors are read one by one: most messages arrive in order and have
// none stored, and a point read costs far less than opening an iterator
// over every level of the tree, once per stored message.
func (t *Txn) raiseHighWater(room RoomID, sender peer.ID, seq uint64) error {
	hw := seq
	for hw < math.MaxUint64 {
		k, err := roomMessageKey(room, sender, hw+1)
		if err != nil {
			return err
		}
		next, err := t.has(k)
		if err != nil {
			return err
		}
		if !next {
			break
		}
		hw++
	}
	return t.setHighWater(room, sender, hw)
}

// RoomHighWater returns, for every sender of room, its high-water mark: the
// highest seq such that every seq from 1 to it has been stored. Pruning
// deletes old messages but never lowers a mark; it raises a sender's mark to
// at least the highest seq it deleted, so that sync does not pull back what
// was pruned (and gaps older than that are given up). A sender whose seq 1
// has not arrived yet is listed with 0. Peers exchange these marks and send
// each other [Txn.RoomSenderMessages] above them.
func (t *Txn) RoomHighWater(room RoomID) (map[peer.ID]uint64, error) {
	prefix := roomKey(prefixRoomHigh, room, 0)
	hws := make(map[peer.ID]uint64)
	err := t.each(prefix, func(k, v []byte) error {
		rest := k[len(prefix):]
		if len(rest) < 2 || int(rest[0]) != len(rest)-1 {
			return fmt.Errorf("%w: high-water key of %d bytes", ErrCorrupt, len(k))
		}
		hw, err := decodeHighWater(v)
		if err != nil {
			return err
		}
		hws[peer.ID(rest[1:])] = hw
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: room high water %s: %w", room, err)
	}
	return hws, nil
}

// RoomHeld reports whether room holds sender's message seq or has given it
// up: seq is at or below the sender's high-water mark (stored, pruned or
// skipped as a newcomer), or a message of sender with that seq is stored.
// A topic validator asks it of every message from a peer: what it reports
// held is a replay (or a reused seq) and is not forwarded again. Two point
// reads, no iterator.
func (t *Txn) RoomHeld(room RoomID, sender peer.ID, seq uint64) (bool, error) {
	hw, _, err := t.highWater(room, sender)
	if err != nil {
		return false, fmt.Errorf("storage: room held: %w", err)
	}
	if seq <= hw {
		return true, nil
	}
	k, err := roomMessageKey(room, sender, seq)
	if err != nil {
		return false, fmt.Errorf("storage: room held: %w", err)
	}
	ok, err := t.has(k)
	return ok, wrap("room held", err)
}

// RoomMissing returns, in ascending order, up to limit seqs of sender in
// [1, upTo] that room lacks: those above the sender's high-water mark that
// are not stored. A node that learns a peer has sender's messages up to upTo
// asks it for these.
func (t *Txn) RoomMissing(room RoomID, sender peer.ID, upTo uint64, limit int) ([]uint64, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("storage: room missing: %w: limit %d", ErrInvalid, limit)
	}
	prefix, err := roomPeerKey(prefixRoomMessage, room, sender, 8)
	if err != nil {
		return nil, fmt.Errorf("storage: room missing: %w", err)
	}
	hw, _, err := t.highWater(room, sender)
	if err != nil {
		return nil, fmt.Errorf("storage: room missing: %w", err)
	}
	if upTo <= hw {
		return nil, nil
	}
	var missing []uint64
	// add appends the seqs in [from, to) up to the limit.
	add := func(from, to uint64) {
		for s := from; s < to && len(missing) < limit; s++ {
			missing = append(missing, s)
		}
	}
	next := hw + 1 // the first seq not known to be stored
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Seek(binary.BigEndian.AppendUint64(bytes.Clone(prefix), next)); it.Valid() && len(missing) < limit; it.Next() {
		s, err := seqFromKey(prefix, it.Item().Key())
		if err != nil {
			return nil, fmt.Errorf("storage: room missing: %w", err)
		}
		if s > upTo {
			break
		}
		add(next, s)
		next = s + 1
		if next == 0 {
			return missing, nil // s was the largest seq
		}
	}
	if next <= upTo {
		add(next, upTo)
		if len(missing) < limit {
			missing = append(missing, upTo)
		}
	}
	return missing, nil
}
