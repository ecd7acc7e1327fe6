package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// RoomMessage is one signed message of a live room, kept as the bytes that
// travelled, with what the store needs to find it again.
type RoomMessage struct {
	Room     RoomID
	ID       [32]byte  // content-hash message ID (crypto/room.WireMessageID)
	Sender   peer.ID   // the signer
	Seq      uint64    // per sender and room, from 1
	Sent     time.Time // the signed timestamp
	Received time.Time // when this node got it; may be zero
	Data     []byte    // the encoded crypto/room.Message
}

// roomMessageKey is rm/<room><sender><seq>.
func roomMessageKey(room RoomID, sender peer.ID, seq uint64) ([]byte, error) {
	k, err := roomPeerKey(prefixRoomMessage, room, sender, 8)
	if err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint64(k, seq), nil
}

// roomTimeKey is rt/<room><sent><id>; its value is a room message reference.
func roomTimeKey(room RoomID, sent uint64, id [32]byte) []byte {
	k := roomKey(prefixRoomTime, room, 8+len(id))
	k = binary.BigEndian.AppendUint64(k, sent)
	return append(k, id[:]...)
}

// roomIndexKey is ri/<room><id>; its value is a room message reference.
func roomIndexKey(room RoomID, id [32]byte) []byte {
	k := roomKey(prefixRoomIndex, room, len(id))
	return append(k, id[:]...)
}

// encodeRoomRef encodes a reference from an index to a room message: the
// length-prefixed sender and the big-endian seq, the tail of its rm/ key.
func encodeRoomRef(sender peer.ID, seq uint64) []byte {
	b := make([]byte, 0, 1+len(sender)+8)
	b = append(b, byte(len(sender)))
	b = append(b, sender...)
	return binary.BigEndian.AppendUint64(b, seq)
}

// decodeRoomRef decodes what encodeRoomRef encoded.
func decodeRoomRef(b []byte) (peer.ID, uint64, error) {
	if len(b) < 1+1+8 || int(b[0]) != len(b)-1-8 || b[0] == 0 {
		return "", 0, fmt.Errorf("%w: room message reference of %d bytes", ErrCorrupt, len(b))
	}
	seq := binary.BigEndian.Uint64(b[len(b)-8:])
	if seq == 0 {
		return "", 0, fmt.Errorf("%w: room message reference to seq 0", ErrCorrupt)
	}
	return peer.ID(b[1 : len(b)-8]), seq, nil
}

// PutRoomMessage stores m and reports whether it was added. It is idempotent
// on (m.Room, m.ID): storing a message again returns false. It also returns
// false, storing nothing, for a seq at or below the sender's high-water mark
// that is no longer stored: such a message was pruned (see
// [Txn.RoomHighWater]). A different message with the same sender and seq as
// a stored one (a sender signing two) is refused with ErrMismatch; the first
// one stays.
func (t *Txn) PutRoomMessage(m RoomMessage) (added bool, err error) {
	added, err = t.putRoomMessage(m)
	if err != nil {
		return false, fmt.Errorf("storage: put room message %x: %w", m.ID[:8], err)
	}
	return added, nil
}

func (t *Txn) putRoomMessage(m RoomMessage) (bool, error) {
	switch {
	case m.Room.IsZero():
		return false, fmt.Errorf("%w: zero room ID", ErrInvalid)
	case m.ID == [32]byte{}:
		return false, fmt.Errorf("%w: zero message ID", ErrInvalid)
	case m.Seq == 0:
		return false, fmt.Errorf("%w: seq 0", ErrInvalid)
	case len(m.Data) == 0:
		return false, fmt.Errorf("%w: empty message", ErrInvalid)
	}
	sent, err := timeKey(m.Sent)
	if err != nil {
		return false, err
	}
	k, err := roomMessageKey(m.Room, m.Sender, m.Seq)
	if err != nil {
		return false, err
	}
	ik := roomIndexKey(m.Room, m.ID)
	hw, known, err := t.highWater(m.Room, m.Sender)
	if err != nil {
		return false, err
	}
	// The sender's next message in order needs no look-up: a mark is always
	// raised past every stored successor (raiseHighWater), so neither seq
	// hw+1 nor its ID is stored. Only a message out of order or below the
	// mark is looked for, as a copy (not added) or another message with its
	// seq (ErrMismatch).
	if m.Seq != hw+1 {
		if ok, err := t.has(ik); err != nil || ok {
			return false, err
		}
		if ok, err := t.has(k); err != nil {
			return false, err
		} else if ok {
			return false, fmt.Errorf("%w: another message from %s has seq %d", ErrMismatch, m.Sender, m.Seq)
		}
		if m.Seq <= hw {
			return false, nil
		}
	}
	r := &storepb.RoomMessage{
		Id:               m.ID[:],
		SentUnixNano:     int64(sent),
		ReceivedUnixNano: toUnixNano(m.Received),
		Data:             m.Data,
	}
	if err := t.setProto(k, r); err != nil {
		return false, err
	}
	ref := encodeRoomRef(m.Sender, m.Seq)
	if err := t.set(roomTimeKey(m.Room, sent, m.ID), ref); err != nil {
		return false, err
	}
	if err := t.set(ik, ref); err != nil {
		return false, err
	}
	if m.Seq == hw+1 {
		return true, t.raiseHighWater(m.Room, m.Sender, m.Seq)
	}
	if !known {
		// List the sender in RoomHighWater even before its seq 1 arrives.
		return true, t.setHighWater(m.Room, m.Sender, 0)
	}
	return true, nil
}

// HasRoomMessage reports whether room holds message id. It reads only the
// index key, so it is cheap enough for deduplicating every message.
func (t *Txn) HasRoomMessage(room RoomID, id [32]byte) (bool, error) {
	ok, err := t.has(roomIndexKey(room, id))
	return ok, wrap("has room message", err)
}

// RoomMessage returns message id of room, or ErrNotFound.
func (t *Txn) RoomMessage(room RoomID, id [32]byte) (RoomMessage, error) {
	ref, err := t.get(roomIndexKey(room, id))
	if err != nil {
		return RoomMessage{}, fmt.Errorf("storage: room message %x: %w", id[:8], err)
	}
	m, err := t.roomMessageByRef(room, ref)
	if err == nil && m.ID != id {
		err = fmt.Errorf("%w: index points at message %x", ErrCorrupt, m.ID[:8])
	}
	if err != nil {
		return RoomMessage{}, fmt.Errorf("storage: room message %x: %w", id[:8], err)
	}
	return m, nil
}

// roomMessageByRef reads the message an index reference points at.
func (t *Txn) roomMessageByRef(room RoomID, ref []byte) (RoomMessage, error) {
	sender, seq, err := decodeRoomRef(ref)
	if err != nil {
		return RoomMessage{}, err
	}
	k, err := roomMessageKey(room, sender, seq)
	if err != nil {
		return RoomMessage{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	b, err := t.get(k)
	if err != nil {
		return RoomMessage{}, fmt.Errorf("message %d of %s: %w", seq, sender, err)
	}
	return decodeRoomMessage(room, sender, seq, b)
}

// decodeRoomMessage builds a RoomMessage from its key parts and record bytes.
func decodeRoomMessage(room RoomID, sender peer.ID, seq uint64, b []byte) (RoomMessage, error) {
	var r storepb.RoomMessage
	if err := proto.Unmarshal(b, &r); err != nil {
		return RoomMessage{}, fmt.Errorf("%w: room message %d of %s: %w", ErrCorrupt, seq, sender, err)
	}
	m := RoomMessage{
		Room:     room,
		Sender:   sender,
		Seq:      seq,
		Sent:     unixNano(r.GetSentUnixNano()),
		Received: unixNano(r.GetReceivedUnixNano()),
		Data:     r.GetData(),
	}
	switch {
	case len(r.GetId()) != len(m.ID):
		return RoomMessage{}, fmt.Errorf("%w: room message ID of %d bytes", ErrCorrupt, len(r.GetId()))
	case r.GetSentUnixNano() <= 0:
		return RoomMessage{}, fmt.Errorf("%w: room message sent at %d", ErrCorrupt, r.GetSentUnixNano())
	case len(m.Data) == 0:
		return RoomMessage{}, fmt.Errorf("%w: empty room message", ErrCorrupt)
	}
	m.ID = [32]byte(r.GetId())
	return m, nil
}

// RoomMessages returns up to limit messages of room, newest Sent first, all
// sent strictly before before; a zero before starts from the newest. It
// seeks to the starting point, so its cost does not grow with the size of
// the room. Messages sent in the same nanosecond are ordered by ID. Signed
// times have millisecond precision, so in a busy room several messages can
// share one: to page back without skipping any, pass the oldest returned
// Sent plus one nanosecond and drop the IDs already seen.
func (t *Txn) RoomMessages(room RoomID, limit int, before time.Time) ([]RoomMessage, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("storage: room messages: %w: limit %d", ErrInvalid, limit)
	}
	prefix := roomKey(prefixRoomTime, room, 0)
	var seek []byte
	if before.IsZero() {
		// Past every key of this room, still inside the prefix.
		seek = append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 8+32+1)...)
	} else {
		b, err := timeKey(before)
		if err != nil {
			return nil, fmt.Errorf("storage: room messages: %w", err)
		}
		seek = binary.BigEndian.AppendUint64(bytes.Clone(prefix), b)
	}
	it := t.txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix})
	defer it.Close()
	ms := make([]RoomMessage, 0, min(limit, 1000))
	for it.Seek(seek); it.Valid() && len(ms) < limit; it.Next() {
		item := it.Item()
		rest := item.Key()[len(prefix):]
		if len(rest) != 8+32 {
			return nil, fmt.Errorf("storage: room messages: %w: recency key of %d bytes", ErrCorrupt, len(item.Key()))
		}
		ref, err := item.ValueCopy(nil)
		if err != nil {
			return nil, fmt.Errorf("storage: room messages: %w", err)
		}
		m, err := t.roomMessageByRef(room, ref)
		if err == nil && (m.ID != [32]byte(rest[8:]) || uint64(m.Sent.UnixNano()) != binary.BigEndian.Uint64(rest)) {
			err = fmt.Errorf("%w: recency key does not match message %x", ErrCorrupt, m.ID[:8])
		}
		if err != nil {
			return nil, fmt.Errorf("storage: room messages: %w", err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// RoomSenderMessages returns up to limit of sender's messages in room with a
// seq above afterSeq, in ascending seq order: what a peer whose high-water
// mark for sender is afterSeq lacks (it may lack more, beyond gaps here).
func (t *Txn) RoomSenderMessages(room RoomID, sender peer.ID, afterSeq uint64, limit int) ([]RoomMessage, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("storage: room sender messages: %w: limit %d", ErrInvalid, limit)
	}
	prefix, err := roomPeerKey(prefixRoomMessage, room, sender, 8)
	if err != nil {
		return nil, fmt.Errorf("storage: room sender messages: %w", err)
	}
	if afterSeq == math.MaxUint64 {
		return nil, nil
	}
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var ms []RoomMessage
	for it.Seek(binary.BigEndian.AppendUint64(bytes.Clone(prefix), afterSeq+1)); it.Valid() && len(ms) < limit; it.Next() {
		item := it.Item()
		seq, err := seqFromKey(prefix, item.Key())
		if err != nil {
			return nil, fmt.Errorf("storage: room sender messages: %w", err)
		}
		var m RoomMessage
		err = item.Value(func(v []byte) error {
			m, err = decodeRoomMessage(room, sender, seq, v)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("storage: room sender messages: %w", err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// seqFromKey returns the seq of a room message key under a sender's prefix.
func seqFromKey(prefix, k []byte) (uint64, error) {
	if len(k) != len(prefix)+8 {
		return 0, fmt.Errorf("%w: room message key of %d bytes", ErrCorrupt, len(k))
	}
	return binary.BigEndian.Uint64(k[len(prefix):]), nil
}
