package storage

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
)

// putMessages stores messages n in ns of p's conversation.
func putMessages(t testing.TB, s *Store, p peer.ID, d Direction, ns ...int) {
	t.Helper()
	update(t, s, func(tx *Txn) error {
		for _, n := range ns {
			if err := tx.PutMessage(testMessage(p, n, d)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ids returns the numbers msgID encoded in ms's IDs.
func ids(ms []Message) []int {
	var ns []int
	for _, m := range ms {
		ns = append(ns, int(m.ID[14])<<8|int(m.ID[15]))
	}
	return ns
}

func messageEqual(a, b Message) bool {
	return a.ID == b.ID && a.Peer == b.Peer && a.Direction == b.Direction && a.Kind == b.Kind &&
		a.Body == b.Body && a.ReplyTo == b.ReplyTo && a.Sent.Equal(b.Sent) &&
		a.Received.Equal(b.Received) && a.State == b.State && a.Context == b.Context
}

func TestMessageRoundTrip(t *testing.T) {
	s := openMem(t)
	p := newPeer(t)
	tests := []Message{
		testMessage(p, 1, Inbound),
		testMessage(p, 2, Outbound),
		{ID: msgID(3), Peer: p, Direction: Outbound, Kind: "reply", Body: "ünïcode ✓", ReplyTo: msgID(1), Sent: at(3).Add(7), State: StateRead},
		{ID: msgID(4), Peer: p, Direction: Inbound, Kind: "reaction", Sent: at(4), Received: at(5), State: StateSeen},
		{ID: msgID(5), Peer: p, Direction: Inbound, Kind: "text", Body: "a question", Sent: at(6), Received: at(6), State: StateReceived, Context: "room:abc"},
	}
	update(t, s, func(tx *Txn) error {
		for _, m := range tests {
			if err := tx.PutMessage(m); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx *Txn) error {
		for _, want := range tests {
			got, err := tx.Message(p, want.ID)
			if err != nil || !messageEqual(got, want) {
				t.Errorf("Message(%s) = %+v, %v; want %+v", want.ID, got, err, want)
			}
		}
		if _, err := tx.Message(p, msgID(99)); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing message: %v", err)
		}
		if _, err := tx.Message(newPeer(t), msgID(1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("message of another peer: %v", err)
		}
		return nil
	})
}

func TestMessagesNewestFirstAndPaging(t *testing.T) {
	s := openMem(t)
	p, other := newPeer(t), newPeer(t)
	// Out of order on purpose; the other peer's messages interleave in time.
	putMessages(t, s, p, Inbound, 5, 1, 9, 3, 7, 2, 8, 4, 6, 10)
	putMessages(t, s, other, Outbound, 1, 2, 3, 11, 12)
	tests := []struct {
		name   string
		limit  int
		before time.Time
		want   []int
	}{
		{"latest 3", 3, time.Time{}, []int{10, 9, 8}},
		{"all", 100, time.Time{}, []int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}},
		{"page before 8", 3, at(8), []int{7, 6, 5}},
		{"page before 5", 3, at(5), []int{4, 3, 2}},
		{"last page", 3, at(2), []int{1}},
		{"before the first", 3, at(1), nil},
		{"before a gap", 2, at(5).Add(time.Millisecond), []int{5, 4}},
		{"after the newest", 2, at(1000), []int{10, 9}},
	}
	view(t, s, func(tx *Txn) error {
		for _, tt := range tests {
			ms, err := tx.Messages(p, tt.limit, tt.before)
			if err != nil {
				return err
			}
			if got := ids(ms); !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
			for _, m := range ms {
				if m.Peer != p {
					t.Errorf("%s: message of %s", tt.name, m.Peer)
				}
			}
		}
		if ms, err := tx.Messages(newPeer(t), 10, time.Time{}); len(ms) != 0 || err != nil {
			t.Errorf("empty conversation: %v, %v", ms, err)
		}
		return nil
	})
}

func TestMessagesSameTimestampOrderedByID(t *testing.T) {
	s := openMem(t)
	p := newPeer(t)
	update(t, s, func(tx *Txn) error {
		for _, n := range []int{2, 3, 1} {
			m := testMessage(p, n, Outbound)
			m.Sent = at(0)
			if err := tx.PutMessage(m); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx *Txn) error {
		ms, err := tx.Messages(p, 10, time.Time{})
		if got := ids(ms); err != nil || !slices.Equal(got, []int{3, 2, 1}) {
			t.Errorf("got %v, %v; want [3 2 1]", got, err)
		}
		return nil
	})
}

func TestHasMessageAndDedup(t *testing.T) {
	s := openMem(t)
	p, other := newPeer(t), newPeer(t)
	putMessages(t, s, p, Inbound, 1)
	// Storing the same message again (a retransmission) changes nothing.
	putMessages(t, s, p, Inbound, 1)
	view(t, s, func(tx *Txn) error {
		tests := []struct {
			p    peer.ID
			id   MessageID
			want bool
		}{
			{p, msgID(1), true},
			{p, msgID(2), false},
			{other, msgID(1), false},
		}
		for _, tt := range tests {
			if got, err := tx.HasMessage(tt.p, tt.id); got != tt.want || err != nil {
				t.Errorf("HasMessage(%s) = %v, %v; want %v", tt.id, got, err, tt.want)
			}
		}
		if n, err := tx.CountMessages(p); n != 1 || err != nil {
			t.Errorf("CountMessages = %d, %v; want 1", n, err)
		}
		c, err := tx.Conversation(p)
		if err != nil || c.Unread != 1 {
			t.Errorf("Conversation = %+v, %v; want 1 unread", c, err)
		}
		return nil
	})
}

func TestPutMessageRefusesChangedIdentity(t *testing.T) {
	s := openMem(t)
	p := newPeer(t)
	putMessages(t, s, p, Outbound, 1)
	tests := []struct {
		name string
		edit func(*Message)
	}{
		{"sent", func(m *Message) { m.Sent = m.Sent.Add(time.Second) }},
		{"direction", func(m *Message) { m.Direction = Inbound; m.State = StateReceived }},
	}
	for _, tt := range tests {
		m := testMessage(p, 1, Outbound)
		tt.edit(&m)
		if err := s.Update(func(tx *Txn) error { return tx.PutMessage(m) }); !errors.Is(err, ErrMismatch) {
			t.Errorf("%s changed: %v, want ErrMismatch", tt.name, err)
		}
	}
}

func TestSetMessageState(t *testing.T) {
	s := openMem(t)
	p := newPeer(t)
	putMessages(t, s, p, Outbound, 1)
	for _, st := range []MessageState{StateSent, StateInMailbox, StateDelivered, StateRead} {
		update(t, s, func(tx *Txn) error { return tx.SetMessageState(p, msgID(1), st) })
		view(t, s, func(tx *Txn) error {
			m, err := tx.Message(p, msgID(1))
			if err != nil || m.State != st {
				t.Errorf("state = %v, %v; want %v", m.State, err, st)
			}
			return nil
		})
	}
	err := s.Update(func(tx *Txn) error { return tx.SetMessageState(p, msgID(2), StateSent) })
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("missing message: %v, want ErrNotFound", err)
	}
	err = s.Update(func(tx *Txn) error { return tx.SetMessageState(p, msgID(1), StateSeen) })
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("inbound state on outbound message: %v, want ErrInvalid", err)
	}
}

func TestConversationSummary(t *testing.T) {
	s := openMem(t)
	a, b := newPeer(t), newPeer(t)
	putMessages(t, s, a, Inbound, 1, 2, 3)
	putMessages(t, s, a, Outbound, 4)
	putMessages(t, s, b, Outbound, 5)
	// An old message arriving late counts, but is not the last.
	putMessages(t, s, b, Inbound, 0)
	update(t, s, func(tx *Txn) error { return tx.SetMessageState(a, msgID(2), StateSeen) })

	view(t, s, func(tx *Txn) error {
		cs, err := tx.Conversations()
		if err != nil {
			return err
		}
		type summary struct {
			peer          peer.ID
			last          int
			count, unread int
		}
		var got []summary
		for _, c := range cs {
			got = append(got, summary{c.Peer, ids([]Message{c.Last})[0], c.Count, c.Unread})
		}
		want := []summary{{b, 5, 2, 1}, {a, 4, 4, 2}}
		if !slices.Equal(got, want) {
			t.Errorf("Conversations = %+v, want %+v", got, want)
		}
		if !cs[0].Updated.Equal(at(5)) || !cs[1].Updated.Equal(at(4)) {
			t.Errorf("Updated = %v, %v; want %v, %v", cs[0].Updated, cs[1].Updated, at(5), at(4))
		}
		return nil
	})

	// Marking read changes exactly the unread inbound messages.
	var changed []MessageID
	update(t, s, func(tx *Txn) (err error) {
		changed, err = tx.MarkRead(a)
		return err
	})
	if want := []MessageID{msgID(3), msgID(1)}; !slices.Equal(changed, want) {
		t.Errorf("MarkRead = %v, want %v", changed, want)
	}
	view(t, s, func(tx *Txn) error {
		c, err := tx.Conversation(a)
		if err != nil || c.Unread != 0 || c.Count != 4 {
			t.Errorf("after MarkRead: %+v, %v", c, err)
		}
		for _, n := range []int{1, 2, 3} {
			if m, _ := tx.Message(a, msgID(n)); m.State != StateSeen {
				t.Errorf("message %d is %v, want seen", n, m.State)
			}
		}
		if m, _ := tx.Message(a, msgID(4)); m.State != StateQueued {
			t.Errorf("outbound message is %v, want queued", m.State)
		}
		if c, _ := tx.Conversation(b); c.Unread != 1 {
			t.Errorf("other conversation has %d unread, want 1", c.Unread)
		}
		return nil
	})
	update(t, s, func(tx *Txn) error {
		ids, err := tx.MarkRead(a)
		if len(ids) != 0 || err != nil {
			t.Errorf("second MarkRead = %v, %v", ids, err)
		}
		return err
	})
	view(t, s, func(tx *Txn) error {
		if _, err := tx.Conversation(newPeer(t)); !errors.Is(err, ErrNotFound) {
			t.Errorf("Conversation of a stranger: %v", err)
		}
		if n, err := tx.CountMessages(newPeer(t)); n != 0 || err != nil {
			t.Errorf("CountMessages of a stranger = %d, %v", n, err)
		}
		return nil
	})
}

func TestDeleteConversation(t *testing.T) {
	s := openMem(t)
	a, b := newPeer(t), newPeer(t)
	for _, p := range []peer.ID{a, b} {
		putMessages(t, s, p, Inbound, 1, 2, 3)
		putMessages(t, s, p, Outbound, 4)
		update(t, s, func(tx *Txn) error {
			for _, err := range []error{
				tx.PutOutbox(OutboxEntry{ID: msgID(4), Peer: p, Frame: []byte("f"), Created: at(4)}),
				tx.PutContact(Contact{Peer: p, Name: p.String()}),
				tx.PutSession(p, "current", []byte("s")),
			} {
				if err != nil {
					return err
				}
			}
			return nil
		})
	}
	keysOf := func(p peer.ID) []string {
		var ks []string
		for _, k := range allKeys(t, s) {
			if strings.Contains(k, string(p)) {
				ks = append(ks, k)
			}
		}
		return ks
	}
	bBefore := keysOf(b)
	update(t, s, func(tx *Txn) error { return tx.DeleteConversation(a) })

	// Of a, only the contact and the session are left.
	var kinds []string
	for _, k := range keysOf(a) {
		kinds = append(kinds, k[:2])
	}
	if want := []string{"c/", "s/"}; !slices.Equal(kinds, want) {
		t.Errorf("keys left of the deleted conversation: %q, want %q", kinds, want)
	}
	if bAfter := keysOf(b); !slices.Equal(bBefore, bAfter) {
		t.Errorf("other peer's keys changed: %q → %q", bBefore, bAfter)
	}
	view(t, s, func(tx *Txn) error {
		if ok, _ := tx.HasMessage(a, msgID(1)); ok {
			t.Error("HasMessage after delete")
		}
		if ms, _ := tx.Messages(a, 10, time.Time{}); len(ms) != 0 {
			t.Errorf("Messages after delete: %d", len(ms))
		}
		if es, _ := tx.Outbox(a); len(es) != 0 {
			t.Errorf("Outbox after delete: %d", len(es))
		}
		if cs, _ := tx.Conversations(); len(cs) != 1 || cs[0].Peer != b {
			t.Errorf("Conversations after delete: %+v", cs)
		}
		return nil
	})
	// The conversation starts afresh.
	putMessages(t, s, a, Inbound, 1)
	view(t, s, func(tx *Txn) error {
		if c, err := tx.Conversation(a); err != nil || c.Count != 1 || c.Unread != 1 {
			t.Errorf("new conversation: %+v, %v", c, err)
		}
		return nil
	})
}

func TestOutboxFIFO(t *testing.T) {
	s := openMem(t)
	a, b := newPeer(t), newPeer(t)
	// IDs deliberately not in creation order.
	entries := []OutboxEntry{
		{ID: msgID(9), Peer: a, Frame: []byte("first"), Created: at(1), NextTry: at(2)},
		{ID: msgID(1), Peer: a, Created: at(2)}, // waiting for a session: no frame yet
		{ID: msgID(5), Peer: a, Frame: []byte("third"), Attempts: 3, Created: at(3)},
		{ID: msgID(2), Peer: b, Frame: []byte("b"), Created: at(1)},
	}
	update(t, s, func(tx *Txn) error {
		for _, i := range []int{2, 0, 3, 1} {
			if err := tx.PutOutbox(entries[i]); err != nil {
				return err
			}
		}
		return nil
	})
	outbox := func(p peer.ID) []OutboxEntry {
		t.Helper()
		var es []OutboxEntry
		view(t, s, func(tx *Txn) (err error) {
			es, err = tx.Outbox(p)
			return err
		})
		return es
	}
	got := outbox(a)
	if len(got) != 3 {
		t.Fatalf("Outbox(a) has %d entries, want 3", len(got))
	}
	for i, want := range entries[:3] {
		g := got[i]
		if g.ID != want.ID || g.Peer != want.Peer || !bytes.Equal(g.Frame, want.Frame) || g.Attempts != want.Attempts ||
			!g.Created.Equal(want.Created) || !g.NextTry.Equal(want.NextTry) {
			t.Errorf("entry %d = %+v, want %+v", i, g, want)
		}
	}
	if got[1].Frame != nil {
		t.Errorf("entry without frame has Frame %q, want nil", got[1].Frame)
	}
	for _, tc := range []struct {
		from time.Time
		want []MessageID
	}{
		{at(2), []MessageID{msgID(1), msgID(5)}},
		{at(3), []MessageID{msgID(5)}},
		{at(4), nil},
	} {
		var es []OutboxEntry
		view(t, s, func(tx *Txn) (err error) {
			es, err = tx.OutboxFrom(a, tc.from)
			return err
		})
		var ids []MessageID
		for _, e := range es {
			ids = append(ids, e.ID)
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("OutboxFrom(%v) = %v, want %v", tc.from, ids, tc.want)
		}
	}
	view(t, s, func(tx *Txn) error {
		ps, err := tx.OutboxPeers()
		if err != nil {
			return err
		}
		slices.Sort(ps)
		want := []peer.ID{a, b}
		slices.Sort(want)
		if !slices.Equal(ps, want) {
			t.Errorf("OutboxPeers = %v, want %v", ps, want)
		}
		return nil
	})

	// Updating an entry keeps its place; a new Created moves it.
	update(t, s, func(tx *Txn) error {
		e := entries[0]
		e.Attempts, e.Frame = 1, []byte("re-encrypted? never, but the store does not care")
		if err := tx.PutOutbox(e); err != nil {
			return err
		}
		e = entries[1]
		e.Created = at(10)
		return tx.PutOutbox(e)
	})
	if got := outbox(a); len(got) != 3 || got[0].ID != msgID(9) || got[0].Attempts != 1 || got[1].ID != msgID(5) || got[2].ID != msgID(1) {
		t.Errorf("after updates: %+v", got)
	}

	update(t, s, func(tx *Txn) error {
		for _, err := range []error{
			tx.DeleteOutbox(a, msgID(9)),
			tx.DeleteOutbox(a, msgID(1)),
			tx.DeleteOutbox(a, msgID(77)), // missing: not an error
			tx.DeleteOutbox(b, msgID(2)),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	if got := outbox(a); len(got) != 1 || got[0].ID != msgID(5) {
		t.Errorf("after delete: %+v", got)
	}
	view(t, s, func(tx *Txn) error {
		ps, err := tx.OutboxPeers()
		if err != nil || !slices.Equal(ps, []peer.ID{a}) {
			t.Errorf("OutboxPeers = %v, %v; want [%s]", ps, err, a)
		}
		return nil
	})
	// No stale entry keys are left behind, and there is no index by ID.
	var outboxKeys int
	for _, k := range allKeys(t, s) {
		if strings.HasPrefix(k, prefixOutboxIndex) {
			t.Errorf("outbox index key %q", k)
		}
		if strings.HasPrefix(k, prefixOutbox) {
			outboxKeys++
		}
	}
	if outboxKeys != 1 {
		t.Errorf("%d outbox keys, want 1", outboxKeys)
	}
}

func TestStoreDeleteConversationInBatches(t *testing.T) {
	s := openMem(t)
	a, b := newPeer(t), newPeer(t)
	total := 2*deleteBatch + 100
	for start := 0; start < total; start += 1000 {
		update(t, s, func(tx *Txn) error {
			for n := start; n < min(start+1000, total); n++ {
				if err := tx.PutMessage(benchMessage(a, n)); err != nil {
					return err
				}
			}
			return tx.PutOutbox(OutboxEntry{ID: msgID(1), Peer: a, Created: at(1)})
		})
	}
	putMessages(t, s, b, Inbound, 1, 2)

	// Half-way states stay consistent: count and unread match what is left.
	update(t, s, func(tx *Txn) error {
		n, err := tx.deleteOldestMessages(a, deleteBatch)
		if err != nil || n != deleteBatch {
			t.Fatalf("deleteOldestMessages = %d, %v", n, err)
		}
		return nil
	})
	view(t, s, func(tx *Txn) error {
		c, err := tx.Conversation(a)
		if err != nil {
			return err
		}
		if want := total - deleteBatch; c.Count != want || c.Unread != want {
			t.Errorf("half-way: count %d, unread %d; want %d", c.Count, c.Unread, want)
		}
		ms, err := tx.Messages(a, total, time.Time{})
		if err != nil || len(ms) != c.Count {
			t.Errorf("half-way: %d messages, %v; want %d", len(ms), err, c.Count)
		}
		return nil
	})

	if err := s.DeleteConversation(a); err != nil {
		t.Fatal(err)
	}
	for _, k := range allKeys(t, s) {
		if strings.Contains(k, string(a)) {
			t.Fatalf("key %q of the deleted conversation left", k)
		}
	}
	view(t, s, func(tx *Txn) error {
		if n, _ := tx.CountMessages(b); n != 2 {
			t.Errorf("other conversation has %d messages, want 2", n)
		}
		return nil
	})
	// Deleting again, or a conversation that never was, is fine.
	if err := s.DeleteConversation(a); err != nil {
		t.Errorf("second delete: %v", err)
	}
}

// A new message's transaction reads its conversation's summary. A state
// change that leaves the summary as it was (an ack: sent to delivered)
// must not write it, or every ack committed while a send's transaction
// runs makes that send conflict (with 32 senders and a stream of acks, five
// conflicts in a row failed sends).
func TestStateChangeDoesNotConflictWithNewMessage(t *testing.T) {
	p := newPeer(t)
	for _, tc := range []struct {
		name         string
		dir          Direction
		to           MessageState
		wantConflict bool
	}{
		{"outbound message delivered", Outbound, StateDelivered, false},
		{"outbound message sent", Outbound, StateSent, false},
		{"outbound message read", Outbound, StateRead, false},
		{"inbound message read", Inbound, StateSeen, true}, // unread count changes
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openMem(t)
			putMessages(t, s, p, tc.dir, 1)
			send := s.db.NewTransaction(true)
			defer send.Discard()
			if err := (&Txn{txn: send}).PutMessage(testMessage(p, 2, Outbound)); err != nil {
				t.Fatal(err)
			}
			update(t, s, func(tx *Txn) error { return tx.SetMessageState(p, msgID(1), tc.to) })
			err := send.Commit()
			if got := errors.Is(err, badger.ErrConflict); got != tc.wantConflict {
				t.Fatalf("commit of the new message: %v, want conflict %v", err, tc.wantConflict)
			}
			if err != nil {
				return
			}
			view(t, s, func(tx *Txn) error {
				c, err := tx.Conversation(p)
				if err != nil {
					return err
				}
				if c.Count != 2 || c.Last.ID != msgID(2) || c.Last.State != StateQueued {
					t.Errorf("summary: count %d, last %v in %v; want 2, message 2 queued", c.Count, c.Last.ID, c.Last.State)
				}
				return nil
			})
		})
	}
}

// TestMessageAt: a message is found at the time it was sent, and at no
// other; an unknown ID is not found.
func TestMessageAt(t *testing.T) {
	s := openMem(t)
	p := newPeer(t)
	putMessages(t, s, p, Outbound, 1, 2)
	tests := []struct {
		name  string
		sent  time.Time
		id    MessageID
		found bool
	}{
		{"at its time", testMessage(p, 2, Outbound).Sent, msgID(2), true},
		{"at another message's time", testMessage(p, 1, Outbound).Sent, msgID(2), false},
		{"unknown", testMessage(p, 2, Outbound).Sent, msgID(9), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view(t, s, func(tx *Txn) error {
				m, err := tx.MessageAt(p, tt.sent, tt.id)
				switch {
				case tt.found && (err != nil || m.ID != tt.id || m.Body != testMessage(p, 2, Outbound).Body):
					t.Errorf("MessageAt = %+v, %v; want message %s", m, err, tt.id)
				case !tt.found && !errors.Is(err, ErrNotFound):
					t.Errorf("MessageAt = %+v, %v; want ErrNotFound", m, err)
				}
				return nil
			})
		})
	}
}
