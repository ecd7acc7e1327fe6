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

// messageKey is m/<peer><sent><id>.
func messageKey(p peer.ID, sent uint64, id MessageID) ([]byte, error) {
	k, err := peerKey(prefixMessage, p, 8+len(id))
	if err != nil {
		return nil, err
	}
	k = binary.BigEndian.AppendUint64(k, sent)
	return append(k, id[:]...), nil
}

// messageIndexKey is i/<peer><id>; its value is the message's sent time.
func messageIndexKey(p peer.ID, id MessageID) ([]byte, error) {
	k, err := peerKey(prefixMessageIndex, p, len(id))
	if err != nil {
		return nil, err
	}
	return append(k, id[:]...), nil
}

// PutMessage inserts m, or updates the stored message with the same Peer and
// ID, whose Sent and Direction must not change (ErrMismatch). It keeps the
// conversation summary (count, unread, last message) up to date.
func (t *Txn) PutMessage(m Message) error {
	if err := t.putMessage(m); err != nil {
		return fmt.Errorf("storage: put message %s: %w", m.ID, err)
	}
	return nil
}

func (t *Txn) putMessage(m Message) error {
	if err := checkMessage(m); err != nil {
		return err
	}
	old, err := t.message(m.Peer, m.ID)
	isNew := errors.Is(err, ErrNotFound)
	if err != nil && !isNew {
		return err
	}
	return t.writeMessage(m, old, isNew)
}

// AddMessage inserts m, which the caller knows is not stored: its ID is
// fresh (random), or HasMessage said it is absent in this transaction. It is
// PutMessage without the lookup of an existing message, which for a new one
// is a miss that searches every level of the store.
func (t *Txn) AddMessage(m Message) error {
	if err := checkMessage(m); err != nil {
		return fmt.Errorf("storage: add message %s: %w", m.ID, err)
	}
	if err := t.writeMessage(m, Message{}, true); err != nil {
		return fmt.Errorf("storage: add message %s: %w", m.ID, err)
	}
	return nil
}

// SetStateOf changes the state of m, as read in this transaction (Message),
// to s, without reading it again.
func (t *Txn) SetStateOf(m Message, s MessageState) error {
	if m.State == s {
		return nil
	}
	n := m
	n.State = s
	if err := checkMessage(n); err != nil {
		return fmt.Errorf("storage: set state of message %s: %w", m.ID, err)
	}
	if err := t.writeMessage(n, m, false); err != nil {
		return fmt.Errorf("storage: set state of message %s: %w", m.ID, err)
	}
	return nil
}

func checkMessage(m Message) error {
	if m.ID.IsZero() {
		return fmt.Errorf("%w: zero message ID", ErrInvalid)
	}
	if m.Direction > Outbound {
		return fmt.Errorf("%w: direction %v", ErrInvalid, m.Direction)
	}
	if !m.State.validFor(m.Direction) {
		return fmt.Errorf("%w: state %v for an %v message", ErrInvalid, m.State, m.Direction)
	}
	return nil
}

// writeMessage writes m over old (isNew: there is none) and keeps the
// summary.
func (t *Txn) writeMessage(m, old Message, isNew bool) error {
	sent, err := timeKey(m.Sent)
	if err != nil {
		return err
	}
	if !isNew && (!old.Sent.Equal(m.Sent) || old.Direction != m.Direction) {
		return fmt.Errorf("%w: sent %v/%v, direction %v/%v", ErrMismatch, old.Sent, m.Sent, old.Direction, m.Direction)
	}
	k, err := messageKey(m.Peer, sent, m.ID)
	if err != nil {
		return err
	}
	r := &storepb.Message{
		Direction:        uint32(m.Direction),
		Kind:             m.Kind,
		Body:             m.Body,
		ReceivedUnixNano: toUnixNano(m.Received),
		State:            uint32(m.State),
		Context:          m.Context,
	}
	if !m.ReplyTo.IsZero() {
		r.ReplyTo = m.ReplyTo[:]
	}
	if err := t.setProto(k, r); err != nil {
		return err
	}
	if isNew {
		ik, err := messageIndexKey(m.Peer, m.ID)
		if err != nil {
			return err
		}
		if err := t.set(ik, binary.BigEndian.AppendUint64(nil, sent)); err != nil {
			return err
		}
	}
	return t.updateSummary(m, old, isNew)
}

// Message returns the message id in p's conversation, or ErrNotFound.
func (t *Txn) Message(p peer.ID, id MessageID) (Message, error) {
	m, err := t.message(p, id)
	if err != nil {
		return Message{}, fmt.Errorf("storage: message %s: %w", id, err)
	}
	return m, nil
}

// MessageAt returns the message id in p's conversation if it was sent at
// sent, without looking up its index, or ErrNotFound: for a caller that
// knows the time (an outbox entry of ours is created with it).
func (t *Txn) MessageAt(p peer.ID, sent time.Time, id MessageID) (Message, error) {
	s, err := timeKey(sent)
	if err != nil {
		return Message{}, fmt.Errorf("storage: message %s: %w", id, err)
	}
	m, err := t.messageAt(p, s, id)
	if err != nil {
		return Message{}, fmt.Errorf("storage: message %s: %w", id, err)
	}
	return m, nil
}

func (t *Txn) message(p peer.ID, id MessageID) (Message, error) {
	sent, err := t.messageSent(p, id)
	if err != nil {
		return Message{}, err
	}
	return t.messageAt(p, sent, id)
}

// messageSent looks up a message's sent time in the index.
func (t *Txn) messageSent(p peer.ID, id MessageID) (uint64, error) {
	ik, err := messageIndexKey(p, id)
	if err != nil {
		return 0, err
	}
	b, err := t.get(ik)
	if err != nil {
		return 0, err
	}
	if len(b) != 8 {
		return 0, fmt.Errorf("%w: message index of %d bytes", ErrCorrupt, len(b))
	}
	return binary.BigEndian.Uint64(b), nil
}

// messageAt reads the message stored under (p, sent, id).
func (t *Txn) messageAt(p peer.ID, sent uint64, id MessageID) (Message, error) {
	k, err := messageKey(p, sent, id)
	if err != nil {
		return Message{}, err
	}
	b, err := t.get(k)
	if err != nil {
		return Message{}, err
	}
	return decodeMessage(p, sent, id, b)
}

// decodeMessage builds a Message from its key parts and record bytes.
func decodeMessage(p peer.ID, sent uint64, id MessageID, b []byte) (Message, error) {
	var r storepb.Message
	if err := proto.Unmarshal(b, &r); err != nil {
		return Message{}, fmt.Errorf("%w: message %s: %w", ErrCorrupt, id, err)
	}
	m := Message{
		ID:        id,
		Peer:      p,
		Direction: Direction(r.GetDirection()),
		Kind:      r.GetKind(),
		Body:      r.GetBody(),
		Sent:      unixNano(int64(sent)),
		Received:  unixNano(r.GetReceivedUnixNano()),
		State:     MessageState(r.GetState()),
		Context:   r.GetContext(),
	}
	if rt := r.GetReplyTo(); len(rt) != 0 {
		if len(rt) != len(m.ReplyTo) {
			return Message{}, fmt.Errorf("%w: message %s: reply-to of %d bytes", ErrCorrupt, id, len(rt))
		}
		m.ReplyTo = MessageID(rt)
	}
	return m, nil
}

// HasMessage reports whether p's conversation holds message id. It reads
// only the index key, so it is cheap enough for deduplicating every frame.
func (t *Txn) HasMessage(p peer.ID, id MessageID) (bool, error) {
	ik, err := messageIndexKey(p, id)
	if err != nil {
		return false, fmt.Errorf("storage: has message: %w", err)
	}
	ok, err := t.has(ik)
	return ok, wrap("has message", err)
}

// SetMessageState changes the state of message id in p's conversation.
func (t *Txn) SetMessageState(p peer.ID, id MessageID, s MessageState) error {
	m, err := t.message(p, id)
	if err != nil {
		return fmt.Errorf("storage: set state of message %s: %w", id, err)
	}
	return t.SetStateOf(m, s)
}

// Messages returns up to limit messages of p's conversation, newest first,
// all sent strictly before before; a zero before starts from the newest. To
// page back, pass the Sent of the oldest message returned (messages sent in
// the very same nanosecond as it are then skipped). It seeks to the starting
// point, so its cost does not grow with the size of the store.
func (t *Txn) Messages(p peer.ID, limit int, before time.Time) ([]Message, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("storage: messages: %w: limit %d", ErrInvalid, limit)
	}
	prefix, err := peerKey(prefixMessage, p, 8+len(MessageID{}))
	if err != nil {
		return nil, fmt.Errorf("storage: messages: %w", err)
	}
	var seek []byte
	if before.IsZero() {
		// Past every key of this conversation, still inside the prefix.
		seek = append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 8+len(MessageID{})+1)...)
	} else {
		b, err := timeKey(before)
		if err != nil {
			return nil, fmt.Errorf("storage: messages: %w", err)
		}
		seek = binary.BigEndian.AppendUint64(bytes.Clone(prefix), b)
	}
	// No value prefetching: Badger would start a goroutine per item, and
	// records are small enough to live in the LSM tree, next to their keys.
	it := t.txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix})
	defer it.Close()
	ms := make([]Message, 0, min(limit, 1000))
	for it.Seek(seek); it.Valid() && len(ms) < limit; it.Next() {
		item := it.Item()
		sent, id, err := splitMessageKey(prefix, item.Key())
		if err != nil {
			return nil, fmt.Errorf("storage: messages: %w", err)
		}
		var m Message
		err = item.Value(func(v []byte) error {
			m, err = decodeMessage(p, sent, id, v)
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("storage: messages: %w", err)
		}
		ms = append(ms, m)
	}
	return ms, nil
}

// splitMessageKey returns the sent time and ID of a message key under prefix.
func splitMessageKey(prefix, k []byte) (uint64, MessageID, error) {
	rest := k[len(prefix):]
	if len(rest) != 8+len(MessageID{}) {
		return 0, MessageID{}, fmt.Errorf("%w: message key of %d bytes", ErrCorrupt, len(k))
	}
	return binary.BigEndian.Uint64(rest), MessageID(rest[8:]), nil
}

// CountMessages returns how many messages p's conversation holds, from its
// summary.
func (t *Txn) CountMessages(p peer.ID) (int, error) {
	s, err := t.summary(p)
	if err != nil {
		return 0, fmt.Errorf("storage: count messages: %w", err)
	}
	return int(s.GetCount()), nil
}

// DeleteConversation deletes p's messages, their index, the conversation
// summary and p's outbox entries. The contact and sessions stay. One
// transaction holds about 26,000 writes, so a conversation of more than some
// 12,000 messages fails with ErrTxnTooBig: use [Store.DeleteConversation].
func (t *Txn) DeleteConversation(p peer.ID) error {
	for _, prefix := range []string{prefixMessage, prefixMessageIndex, prefixConversation, prefixOutbox} {
		k, err := peerKey(prefix, p, 0)
		if err != nil {
			return fmt.Errorf("storage: delete conversation: %w", err)
		}
		if err := t.deletePrefix(k); err != nil {
			return fmt.Errorf("storage: delete conversation %s: %w", p, err)
		}
	}
	return nil
}
