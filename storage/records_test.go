package storage

import (
	"bytes"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// epoch is the base of test times.
var epoch = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// at returns epoch plus n seconds.
func at(n int) time.Time { return epoch.Add(time.Duration(n) * time.Second) }

// msgID returns a message ID that encodes n.
func msgID(n int) MessageID {
	var id MessageID
	id[0] = 0xAA
	id[14], id[15] = byte(n>>8), byte(n)
	return id
}

// testMessage returns message n of p's conversation, sent at at(n).
func testMessage(p peer.ID, n int, d Direction) Message {
	m := Message{ID: msgID(n), Peer: p, Direction: d, Kind: "text", Body: "message", Sent: at(n), State: StateQueued}
	if d == Inbound {
		m.Received = at(n).Add(time.Millisecond)
		m.State = StateReceived
	}
	return m
}

func TestSecretsRoundTrip(t *testing.T) {
	s := openMem(t)
	made := time.Unix(1700000000, 0).UTC()
	update(t, s, func(tx *Txn) error {
		for _, err := range []error{
			tx.PutIdentity([]byte("identity")),
			tx.PutSignedPreKey(7, []byte("spk7")),
			tx.PutSignedPreKey(8, []byte("spk8")),
			tx.SetCurrentSignedPreKeyID(8),
			tx.PutOneTimePreKey(1, made, []byte("otk1")),
			tx.PutOneTimePreKey(2, time.Time{}, []byte("otk2")),
			tx.PutSetting("difficulty", []byte{12}),
			tx.DeleteSignedPreKey(7),
			tx.DeleteSignedPreKey(99),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx *Txn) error {
		tests := []struct {
			name string
			get  func() ([]byte, error)
			want []byte
			err  error
		}{
			{"identity", tx.Identity, []byte("identity"), nil},
			{"signed prekey", func() ([]byte, error) { return tx.SignedPreKey(8) }, []byte("spk8"), nil},
			{"deleted signed prekey", func() ([]byte, error) { return tx.SignedPreKey(7) }, nil, ErrNotFound},
			{"setting", func() ([]byte, error) { return tx.GetSetting("difficulty") }, []byte{12}, nil},
			{"missing setting", func() ([]byte, error) { return tx.GetSetting("nope") }, nil, ErrNotFound},
		}
		for _, tt := range tests {
			got, err := tt.get()
			if !errors.Is(err, tt.err) || !bytes.Equal(got, tt.want) {
				t.Errorf("%s = %q, %v; want %q, %v", tt.name, got, err, tt.want, tt.err)
			}
		}
		if id, err := tx.CurrentSignedPreKeyID(); id != 8 || err != nil {
			t.Errorf("CurrentSignedPreKeyID = %d, %v; want 8", id, err)
		}
		if n, err := tx.CountOneTimePreKeys(); n != 2 || err != nil {
			t.Errorf("CountOneTimePreKeys = %d, %v; want 2", n, err)
		}
		if ids, err := tx.SignedPreKeyIDs(); !slices.Equal(ids, []uint32{8}) || err != nil {
			t.Errorf("SignedPreKeyIDs = %v, %v; want [8]", ids, err)
		}
		times, err := tx.OneTimePreKeyTimes()
		if err != nil || len(times) != 2 || !times[1].Equal(made) || !times[2].IsZero() {
			t.Errorf("OneTimePreKeyTimes = %v, %v; want 1 at %v, 2 unknown", times, err, made)
		}
		return nil
	})
	update(t, s, func(tx *Txn) error {
		if err := tx.SetOneTimePreKeyTime(2, made); err != nil {
			return err
		}
		if err := tx.SetOneTimePreKeyTime(3, made); !errors.Is(err, ErrNotFound) {
			t.Errorf("SetOneTimePreKeyTime of a missing key: %v, want ErrNotFound", err)
		}
		return tx.DeleteOneTimePreKey(1)
	})
	view(t, s, func(tx *Txn) error {
		times, err := tx.OneTimePreKeyTimes()
		if err != nil || len(times) != 1 || !times[2].Equal(made) {
			t.Errorf("after setting 2's time and deleting 1: %v, %v", times, err)
		}
		return nil
	})
}

func TestEmptyStoreReportsNotFound(t *testing.T) {
	s := openMem(t)
	view(t, s, func(tx *Txn) error {
		if _, err := tx.Identity(); !errors.Is(err, ErrNotFound) {
			t.Errorf("Identity: %v", err)
		}
		if _, err := tx.CurrentSignedPreKeyID(); !errors.Is(err, ErrNotFound) {
			t.Errorf("CurrentSignedPreKeyID: %v", err)
		}
		if n, err := tx.CountOneTimePreKeys(); n != 0 || err != nil {
			t.Errorf("CountOneTimePreKeys = %d, %v", n, err)
		}
		return nil
	})
}

func TestTakeOneTimePreKeyOnlyOnce(t *testing.T) {
	s := openMem(t)
	made := time.Unix(1700000000, 5).UTC()
	update(t, s, func(tx *Txn) error { return tx.PutOneTimePreKey(5, made, []byte("otk5")) })
	update(t, s, func(tx *Txn) error {
		b, created, err := tx.TakeOneTimePreKey(5)
		if err != nil || string(b) != "otk5" || !created.Equal(made) {
			t.Errorf("first take = %q, %v, %v", b, created, err)
		}
		if _, _, err := tx.TakeOneTimePreKey(5); !errors.Is(err, ErrNotFound) {
			t.Errorf("second take in the same txn: %v, want ErrNotFound", err)
		}
		return nil
	})
	err := s.Update(func(tx *Txn) error {
		_, _, err := tx.TakeOneTimePreKey(5)
		return err
	})
	if !errors.Is(err, ErrNotFound) {
		t.Errorf("take after commit: %v, want ErrNotFound", err)
	}
	view(t, s, func(tx *Txn) error {
		if n, _ := tx.CountOneTimePreKeys(); n != 0 {
			t.Errorf("%d one-time prekeys left, want 0", n)
		}
		return nil
	})
}

func TestNextSequenceIsMonotonicAndPersists(t *testing.T) {
	dir := t.TempDir()
	s := openDir(t, dir)
	next := func(s *Store, name string) uint64 {
		t.Helper()
		var n uint64
		update(t, s, func(tx *Txn) (err error) {
			n, err = tx.NextSequence(name)
			return err
		})
		return n
	}
	for want := uint64(1); want <= 3; want++ {
		if got := next(s, "prekeys"); got != want {
			t.Fatalf("NextSequence = %d, want %d", got, want)
		}
	}
	if got := next(s, "other"); got != 1 {
		t.Errorf("independent counter = %d, want 1", got)
	}
	// A rolled-back increment is not consumed.
	s.Update(func(tx *Txn) error {
		tx.NextSequence("prekeys")
		return errors.New("roll back")
	})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openDir(t, dir)
	defer s.Close()
	if got := next(s, "prekeys"); got != 4 {
		t.Errorf("after reopen NextSequence = %d, want 4", got)
	}
}

func TestContactsRoundTripAndOrder(t *testing.T) {
	s := openMem(t)
	a, b, c := newPeer(t), newPeer(t), newPeer(t)
	full := Contact{
		Peer: a, State: ContactAccepted, Name: "bob", ProfileName: "Robert",
		Addrs: []string{"/ip4/127.0.0.1/tcp/4001"}, Verified: true, Origin: "room:xyz",
		Created: at(1), Updated: at(2),
	}
	update(t, s, func(tx *Txn) error {
		for _, ct := range []Contact{full, {Peer: b, Name: "alice"}, {Peer: c, State: ContactBlocked}} {
			if err := tx.PutContact(ct); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx *Txn) error {
		got, err := tx.Contact(a)
		if err != nil {
			return err
		}
		if !contactEqual(got, full) {
			t.Errorf("Contact = %+v, want %+v", got, full)
		}
		cs, err := tx.Contacts()
		if err != nil {
			return err
		}
		var names []string
		for _, c := range cs {
			names = append(names, c.Name)
		}
		if want := []string{"", "alice", "bob"}; !slices.Equal(names, want) {
			t.Errorf("Contacts names = %q, want %q", names, want)
		}
		return nil
	})
	update(t, s, func(tx *Txn) error { return tx.DeleteContact(a) })
	view(t, s, func(tx *Txn) error {
		if _, err := tx.Contact(a); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted contact: %v", err)
		}
		return nil
	})
}

func contactEqual(a, b Contact) bool {
	return a.Peer == b.Peer && a.State == b.State && a.Name == b.Name && a.ProfileName == b.ProfileName &&
		slices.Equal(a.Addrs, b.Addrs) && a.Verified == b.Verified && a.Origin == b.Origin &&
		a.Created.Equal(b.Created) && a.Updated.Equal(b.Updated)
}

func TestContactByName(t *testing.T) {
	s := openMem(t)
	ps := []peer.ID{newPeer(t), newPeer(t), newPeer(t), newPeer(t), newPeer(t)}
	update(t, s, func(tx *Txn) error {
		for _, c := range []Contact{
			{Peer: ps[0], Name: "alice", ProfileName: "Alice"},
			{Peer: ps[1], Name: "bob", ProfileName: "alice"}, // profile name shadowed by ps[0]'s petname
			{Peer: ps[2], Name: "twin"},
			{Peer: ps[3], Name: "twin"},
			{Peer: ps[4], ProfileName: "Carol"},
		} {
			if err := tx.PutContact(c); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name string
		want peer.ID
		err  error
	}{
		{"alice", ps[0], nil},
		{"bob", ps[1], nil},
		{"Carol", ps[4], nil},
		{"twin", "", ErrAmbiguous},
		{"nobody", "", ErrNotFound},
		{"", "", ErrInvalid},
	}
	view(t, s, func(tx *Txn) error {
		for _, tt := range tests {
			c, err := tx.ContactByName(tt.name)
			if !errors.Is(err, tt.err) || c.Peer != tt.want {
				t.Errorf("ContactByName(%q) = %s, %v; want %s, %v", tt.name, c.Peer, err, tt.want, tt.err)
			}
		}
		return nil
	})
}

func TestSessions(t *testing.T) {
	s := openMem(t)
	a, b := newPeer(t), newPeer(t)
	update(t, s, func(tx *Txn) error {
		for _, err := range []error{
			tx.PutSession(a, "current", []byte("a-cur")),
			tx.PutSession(a, "previous", []byte("a-prev")),
			tx.PutSession(b, "current", []byte("b-cur")),
		} {
			if err != nil {
				return err
			}
		}
		return nil
	})
	check := func(p peer.ID, slot, want string) {
		t.Helper()
		view(t, s, func(tx *Txn) error {
			got, err := tx.Session(p, slot)
			if want == "" {
				if !errors.Is(err, ErrNotFound) {
					t.Errorf("Session(%s) = %q, %v; want ErrNotFound", slot, got, err)
				}
			} else if string(got) != want || err != nil {
				t.Errorf("Session(%s) = %q, %v; want %q", slot, got, err, want)
			}
			return nil
		})
	}
	check(a, "current", "a-cur")
	check(a, "previous", "a-prev")
	update(t, s, func(tx *Txn) error { return tx.DeleteSession(a, "previous") })
	check(a, "previous", "")
	check(a, "current", "a-cur")
	update(t, s, func(tx *Txn) error { return tx.DeleteSessions(a) })
	check(a, "current", "")
	check(b, "current", "b-cur")
}

func TestInvalidArguments(t *testing.T) {
	s := openMem(t)
	p := newPeer(t)
	valid := testMessage(p, 1, Outbound)
	with := func(f func(*Message)) Message { m := valid; f(&m); return m }
	tests := []struct {
		name string
		fn   func(*Txn) error
	}{
		{"empty peer", func(tx *Txn) error { return tx.PutContact(Contact{}) }},
		{"long peer", func(tx *Txn) error { return tx.PutContact(Contact{Peer: peer.ID(make([]byte, 256))}) }},
		{"bad contact state", func(tx *Txn) error { return tx.PutContact(Contact{Peer: p, State: 9}) }},
		{"message zero ID", func(tx *Txn) error { return tx.PutMessage(with(func(m *Message) { m.ID = MessageID{} })) }},
		{"message no peer", func(tx *Txn) error { return tx.PutMessage(with(func(m *Message) { m.Peer = "" })) }},
		{"message zero sent", func(tx *Txn) error { return tx.PutMessage(with(func(m *Message) { m.Sent = time.Time{} })) }},
		{"message before epoch", func(tx *Txn) error {
			return tx.PutMessage(with(func(m *Message) { m.Sent = time.Date(1969, 1, 1, 0, 0, 0, 0, time.UTC) }))
		}},
		{"outbound received", func(tx *Txn) error { return tx.PutMessage(with(func(m *Message) { m.State = StateReceived })) }},
		{"inbound delivered", func(tx *Txn) error {
			return tx.PutMessage(with(func(m *Message) { m.Direction = Inbound; m.State = StateDelivered }))
		}},
		{"bad direction", func(tx *Txn) error { return tx.PutMessage(with(func(m *Message) { m.Direction = 7 })) }},
		{"messages limit", func(tx *Txn) error { _, err := tx.Messages(p, 0, time.Time{}); return err }},
		{"outbox zero created", func(tx *Txn) error { return tx.PutOutbox(OutboxEntry{ID: msgID(1), Peer: p}) }},
		{"outbox zero ID", func(tx *Txn) error { return tx.PutOutbox(OutboxEntry{Peer: p, Created: at(1)}) }},
		{"empty slot", func(tx *Txn) error { return tx.PutSession(p, "", []byte("x")) }},
		{"empty session", func(tx *Txn) error { return tx.PutSession(p, "current", nil) }},
		{"empty sequence name", func(tx *Txn) error { _, err := tx.NextSequence(""); return err }},
		{"empty setting key", func(tx *Txn) error { return tx.PutSetting("", []byte("x")) }},
		{"empty identity", func(tx *Txn) error { return tx.PutIdentity(nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Update(tt.fn); !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestMessageIDString(t *testing.T) {
	id := msgID(0x1234)
	got, err := ParseMessageID(id.String())
	if err != nil || got != id {
		t.Fatalf("ParseMessageID(%s) = %v, %v", id, got, err)
	}
	for _, bad := range []string{"", "aa", id.String() + "00", "zz" + id.String()[2:]} {
		if _, err := ParseMessageID(bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("ParseMessageID(%q): %v, want ErrInvalid", bad, err)
		}
	}
}

func TestStateStrings(t *testing.T) {
	tests := []struct{ got, want string }{
		{ContactUnknown.String(), "unknown"},
		{ContactAccepted.String(), "accepted"},
		{ContactBlocked.String(), "blocked"},
		{ContactState(9).String(), "ContactState(9)"},
		{Inbound.String(), "inbound"},
		{Outbound.String(), "outbound"},
		{Direction(5).String(), "Direction(5)"},
		{StateQueued.String(), "queued"},
		{StateSent.String(), "sent"},
		{StateDelivered.String(), "delivered"},
		{StateRead.String(), "read"},
		{StateReceived.String(), "received"},
		{StateSeen.String(), "seen"},
		{StateInMailbox.String(), "in_mailbox"},
		{MessageState(42).String(), "MessageState(42)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("String() = %q, want %q", tt.got, tt.want)
		}
	}
}

func TestInvalidUTF8IsRefused(t *testing.T) {
	s := openMem(t)
	p := newPeer(t)
	m := testMessage(p, 1, Inbound)
	m.Body = "\xff"
	tests := []struct {
		name string
		fn   func(*Txn) error
	}{
		{"contact name", func(tx *Txn) error { return tx.PutContact(Contact{Peer: p, Name: "\xff"}) }},
		{"message body", func(tx *Txn) error { return tx.PutMessage(m) }},
	}
	for _, tt := range tests {
		if err := s.Update(tt.fn); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
	}
}
