package rooms

import (
	"fmt"
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
				got, err = lateJoinerHistory(tx, storage.RoomID(rid), tt.limit, now.Add(-tt.age), now)
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
