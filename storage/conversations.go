package storage

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// Conversation summarises one peer's 1:1 conversation.
type Conversation struct {
	Peer    peer.ID
	Last    Message   // the newest message by (Sent, ID)
	Count   int       // messages in the conversation
	Unread  int       // inbound messages in StateReceived
	Updated time.Time // latest activity: receive time of inbound, send time of outbound messages
}

// summary reads p's summary record; a missing one is an empty summary.
func (t *Txn) summary(p peer.ID) (*storepb.Conversation, error) {
	k, err := peerKey(prefixConversation, p, 0)
	if err != nil {
		return nil, err
	}
	var r storepb.Conversation
	if err := t.getProto(k, &r); err != nil && !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	return &r, nil
}

// updateSummary accounts for m having been inserted (isNew) or having
// replaced old.
//
// A change that leaves the summary as it was (an outbound message sent,
// delivered or read) neither reads nor writes it: the summary is the one key
// every transaction of a conversation touches, and a write of it makes every
// transaction that read it meanwhile (a new message's) conflict.
func (t *Txn) updateSummary(m, old Message, isNew bool) error {
	if !isNew && old.unread() == m.unread() {
		return nil // Count, Last and Updated change only with a new message
	}
	r, err := t.summary(m.Peer)
	if err != nil {
		return err
	}
	unread := int64(r.GetUnread())
	if isNew {
		r.Count++
		if m.unread() {
			unread++
		}
		sent := m.Sent.UnixNano()
		if sent > r.GetLastSentUnixNano() || (sent == r.GetLastSentUnixNano() && bytes.Compare(m.ID[:], r.GetLastId()) > 0) {
			r.LastSentUnixNano = sent
			r.LastId = m.ID[:]
		}
		if a := toUnixNano(m.activity()); a > r.GetUpdatedUnixNano() {
			r.UpdatedUnixNano = a
		}
	} else {
		if old.unread() {
			unread--
		}
		if m.unread() {
			unread++
		}
	}
	r.Unread = uint64(max(unread, 0))
	k, err := peerKey(prefixConversation, m.Peer, 0)
	if err != nil {
		return err
	}
	return t.setProto(k, r)
}

// Conversation returns the summary of p's conversation, or ErrNotFound if it
// holds no messages.
func (t *Txn) Conversation(p peer.ID) (Conversation, error) {
	k, err := peerKey(prefixConversation, p, 0)
	if err != nil {
		return Conversation{}, fmt.Errorf("storage: conversation: %w", err)
	}
	var r storepb.Conversation
	if err := t.getProto(k, &r); err != nil {
		return Conversation{}, fmt.Errorf("storage: conversation %s: %w", p, err)
	}
	c, err := t.conversation(p, &r)
	if err != nil {
		return Conversation{}, fmt.Errorf("storage: conversation %s: %w", p, err)
	}
	return c, nil
}

// conversation builds a Conversation from its summary, reading the last message.
func (t *Txn) conversation(p peer.ID, r *storepb.Conversation) (Conversation, error) {
	if len(r.GetLastId()) != len(MessageID{}) {
		return Conversation{}, fmt.Errorf("%w: summary without a last message", ErrCorrupt)
	}
	last, err := t.messageAt(p, uint64(r.GetLastSentUnixNano()), MessageID(r.GetLastId()))
	if err != nil {
		return Conversation{}, fmt.Errorf("last message: %w", err)
	}
	return Conversation{
		Peer:    p,
		Last:    last,
		Count:   int(r.GetCount()),
		Unread:  int(r.GetUnread()),
		Updated: unixNano(r.GetUpdatedUnixNano()),
	}, nil
}

// Conversations returns every conversation, most recently updated first.
// The node splits them into inbox and requests by the contact's state.
func (t *Txn) Conversations() ([]Conversation, error) {
	type summary struct {
		p peer.ID
		r *storepb.Conversation
	}
	var ss []summary
	err := t.each([]byte(prefixConversation), func(k, v []byte) error {
		p, _, err := peerFromKey(prefixConversation, k)
		if err != nil {
			return err
		}
		r := new(storepb.Conversation)
		if err := proto.Unmarshal(v, r); err != nil {
			return fmt.Errorf("%w: conversation %s: %w", ErrCorrupt, p, err)
		}
		ss = append(ss, summary{p, r})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: conversations: %w", err)
	}
	cs := make([]Conversation, 0, len(ss))
	for _, s := range ss {
		c, err := t.conversation(s.p, s.r)
		if err != nil {
			return nil, fmt.Errorf("storage: conversation %s: %w", s.p, err)
		}
		cs = append(cs, c)
	}
	slices.SortFunc(cs, func(a, b Conversation) int {
		return cmp.Or(b.Updated.Compare(a.Updated), cmp.Compare(a.Peer, b.Peer))
	})
	return cs, nil
}

// MarkRead moves p's inbound messages from StateReceived to StateSeen and
// returns the IDs it changed (newest first), for read receipts; the
// conversation's Unread becomes 0. It walks back from the newest message and
// stops once it has found as many as the summary counts as unread.
func (t *Txn) MarkRead(p peer.ID) ([]MessageID, error) {
	r, err := t.summary(p)
	if err != nil {
		return nil, fmt.Errorf("storage: mark read: %w", err)
	}
	if r.GetUnread() == 0 {
		return nil, nil
	}
	prefix, err := peerKey(prefixMessage, p, 0)
	if err != nil {
		return nil, fmt.Errorf("storage: mark read: %w", err)
	}
	it := t.txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix})
	var changed []Message
	seek := append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 8+len(MessageID{})+1)...)
	for it.Seek(seek); it.Valid() && uint64(len(changed)) < r.GetUnread(); it.Next() {
		item := it.Item()
		sent, id, err := splitMessageKey(prefix, item.Key())
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("storage: mark read: %w", err)
		}
		var m Message
		err = item.Value(func(v []byte) error {
			m, err = decodeMessage(p, sent, id, v)
			return err
		})
		if err != nil {
			it.Close()
			return nil, fmt.Errorf("storage: mark read: %w", err)
		}
		if m.unread() {
			changed = append(changed, m)
		}
	}
	// Badger allows no writes while an iterator is open.
	it.Close()
	ids := make([]MessageID, 0, len(changed))
	for _, m := range changed {
		m.State = StateSeen
		if err := t.PutMessage(m); err != nil {
			return nil, fmt.Errorf("storage: mark read: %w", err)
		}
		ids = append(ids, m.ID)
	}
	// Should the summary have counted more than there were, still end at 0.
	if r, err = t.summary(p); err != nil {
		return nil, fmt.Errorf("storage: mark read: %w", err)
	}
	if r.GetUnread() != 0 {
		r.Unread = 0
		k, err := peerKey(prefixConversation, p, 0)
		if err == nil {
			err = t.setProto(k, r)
		}
		if err != nil {
			return nil, fmt.Errorf("storage: mark read: %w", err)
		}
	}
	return ids, nil
}
