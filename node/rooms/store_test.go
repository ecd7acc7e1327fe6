package rooms

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// TestLateJoinerHistory: a newcomer gets the newest messages within the age
// bound, without expired presence, up to the limit, across pages.
func TestLateJoinerHistory(t *testing.T) {
	st, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	rid := room.ID{7}
	sk := keys.GeneratePrivateKey()
	seq := uint64(0)
	put := func(kind room.Kind, body []byte, at time.Time) room.MessageID {
		t.Helper()
		seq++
		m := room.Message{Room: rid, Kind: kind, Seq: seq, Timestamp: at, Body: body}
		if err := m.Sign(sk); err != nil {
			t.Fatal(err)
		}
		data, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Update(func(tx *storage.Txn) error {
			_, err := tx.PutRoomMessage(record(m, m.ID(), m.Sender.PeerID(), data, at))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return m.ID()
	}
	chat := func(s string) []byte {
		b, err := roomstate.EncodeChat(roomstate.ChatBody{Text: s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	presence, err := roomstate.EncodePresence(roomstate.PresenceBody{TTL: 2 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	put(room.KindChat, chat("too old"), now.Add(-10*24*time.Hour))
	var chats []room.MessageID
	for i := range 1400 { // most of a day of chat, one line a minute, with presence between
		at := now.Add(-24 * time.Hour).Add(time.Duration(i) * time.Minute)
		chats = append(chats, put(room.KindChat, chat(fmt.Sprint("line ", i)), at))
		put(room.KindPresence, presence, at.Add(time.Second))
	}
	fresh := put(room.KindPresence, presence, now)

	tests := []struct {
		name  string
		limit int
		age   time.Duration
		want  []room.MessageID // newest first
	}{
		{"bounded by count", 1000, 7 * 24 * time.Hour, append([]room.MessageID{fresh}, reverse(chats)[:999]...)},
		{"bounded by age", 5000, 7 * 24 * time.Hour, append([]room.MessageID{fresh}, reverse(chats)...)},
		{"a short age", 5000, 10 * time.Minute, []room.MessageID{fresh}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []storage.RoomMessage
			if err := st.View(func(tx *storage.Txn) error {
				var err error
				got, err = lateJoinerHistory(tx, storage.RoomID(rid), sk.Public(), tt.limit, now.Add(-tt.age), now)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d messages, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if got[i].ID != tt.want[i] {
					t.Fatalf("message %d is %x, want %x", i, got[i].ID[:4], tt.want[i][:4])
				}
			}
		})
	}
}

func reverse[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// TestNewcomerFilterTallies: walked newest first, the host's tallies that
// newer ones supersede are left out of a newcomer's first answer (counts
// no higher than the newer ones', a census older than the latest or than
// roomstate.CensusFresh), and what the newcomer's state counts from the
// rest is what it would count from them all; a moderator's tally is kept.
func TestNewcomerFilterTallies(t *testing.T) {
	host, mod := keys.GeneratePrivateKey(), keys.GeneratePrivateKey()
	d := room.Descriptor{Nonce: room.NewNonce(), Name: "tallies", Created: time.Now().Add(-time.Hour)}
	if err := d.Sign(host); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a, b := room.MessageID{1}, room.MessageID{2}
	seqs := map[keys.PublicKey]uint64{}
	tally := func(sk keys.PrivateKey, ago time.Duration, tb roomstate.TallyBody) room.Message {
		body, err := roomstate.EncodeTally(tb)
		if err != nil {
			t.Fatal(err)
		}
		seqs[sk.Public()]++
		m := room.Message{Room: d.Room, Kind: room.KindTally, Seq: seqs[sk.Public()], Timestamp: now.Add(-ago), Body: body}
		if err := m.Sign(sk); err != nil {
			t.Fatal(err)
		}
		return m
	}
	count := func(target room.MessageID, emoji string, n uint32) roomstate.TallyCount {
		return roomstate.TallyCount{Target: target, Emoji: emoji, Count: n}
	}
	// Newest first, each with whether the filter keeps it.
	walk := []struct {
		m    room.Message
		keep bool
	}{
		{tally(host, 1*time.Second, roomstate.TallyBody{Counts: []roomstate.TallyCount{count(a, "", 9)}}), true},
		{tally(host, 2*time.Second, roomstate.TallyBody{Present: 800, Counts: []roomstate.TallyCount{count(a, "", 8)}}), true}, // the latest census
		{tally(host, 3*time.Second, roomstate.TallyBody{Counts: []roomstate.TallyCount{count(a, "", 7), count(b, "👍", 3)}}), true},
		{tally(host, 4*time.Second, roomstate.TallyBody{Present: 700, Counts: []roomstate.TallyCount{count(b, "👍", 2)}}), false},
		{tally(mod, 5*time.Second, roomstate.TallyBody{Counts: []roomstate.TallyCount{count(a, "", 1)}}), true},
		{tally(host, 6*time.Second, roomstate.TallyBody{Counts: []roomstate.TallyCount{count(a, "", 6), count(b, "", 1)}}), true},
		{tally(host, 7*time.Second, roomstate.TallyBody{Counts: []roomstate.TallyCount{count(b, "", 1)}}), false},
	}
	f := newNewcomerFilter(host.Public(), now)
	all, kept := roomstate.New(d), roomstate.New(d)
	for i, w := range walk {
		data, err := w.m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if skip := f.skip(storage.RoomMessage{Data: data}); skip == w.keep {
			t.Errorf("tally %d: skipped %v, want %v", i, skip, !w.keep)
		}
		_ = all.Apply(w.m)
		if w.keep {
			_ = kept.Apply(w.m)
		}
	}
	for _, k := range []tallyKey{{a, ""}, {b, ""}, {b, "👍"}} {
		if x, y := kept.Count(k.target, k.emoji), all.Count(k.target, k.emoji); x != y {
			t.Errorf("%v: the kept tallies count %d, all of them %d", k, x, y)
		}
	}
	if x, y := kept.PresentSeen(now), all.PresentSeen(now); x != y {
		t.Errorf("present: %d, %d", x, y)
	}
	lx, _ := kept.Presence(now)
	ly, _ := all.Presence(now)
	if lx != ly || lx != 800 {
		t.Errorf("census: kept %d, all %d; want 800", lx, ly)
	}
	// A census older than CensusFresh is left out, counts or not.
	old := newNewcomerFilter(host.Public(), now)
	data, err := tally(host, roomstate.CensusFresh+time.Minute, roomstate.TallyBody{Present: 5}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !old.skip(storage.RoomMessage{Data: data}) {
		t.Error("a stale census is kept")
	}
}

// TestCloseStoresAnnounced: a message announced while the service closes
// (a reader's last batch, after the service's context has ended) is still
// stored, so a restart's sync does not bring it back as a new message and
// announce it a second time.
func TestCloseStoresAnnounced(t *testing.T) {
	tn := newTestNet(t)
	ts := newTestService(t, tn, "")
	info, err := ts.CreateRoom(t.Context(), "closing", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	lr, ok := ts.get(info.ID)
	if !ok {
		t.Fatal("room not joined")
	}
	const late = 20
	var ids []room.MessageID
	var batch []arrival
	for i := range late {
		m, data := signChat(t, info.ID, keys.GeneratePrivateKey(), 1, fmt.Sprint("late ", i))
		a := newArrival(m, data, "")
		ids = append(ids, a.id)
		batch = append(batch, a)
	}
	// A reader of the service that gets its last batch only once Close has
	// begun.
	ts.wg.Add(1)
	go func() {
		defer ts.wg.Done()
		<-ts.ctx.Done()
		for _, a := range batch {
			ts.accept(lr, []arrival{a})
		}
	}()
	ts.stop()

	st, err := storage.Open(storage.Config{Dir: filepath.Join(ts.home, "store"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	missing := 0
	if err := st.View(func(tx *storage.Txn) error {
		for _, id := range ids {
			if _, err := tx.RoomMessage(storage.RoomID(info.ID), id); errors.Is(err, storage.ErrNotFound) {
				missing++
			} else if err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if missing > 0 {
		t.Fatalf("%d of %d messages announced during Close not stored", missing, late)
	}
}
