package rooms

import (
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms/internal/roomspb"
	"github.com/backchannel/backchannel/storage"
)

// TestServeSyncNewest: a newcomer's request (Newest, even with marks of its
// own) gets the newest history, oldest first, and floors past the rest; a
// gap repair request gets the oldest missing first.
func TestServeSyncNewest(t *testing.T) {
	tn := newTestNet(t)
	host := newTestService(t, tn, "")
	info, err := host.CreateRoom(t.Context(), "sync", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const lines = MaxHistory + 200
	for i := range lines {
		if _, err := host.RoomSay(t.Context(), info.ID, fmt.Sprint("line ", i)); err != nil {
			t.Fatal(err)
		}
	}
	var stored []storage.RoomMessage
	if err := host.store.View(func(tx *storage.Txn) error {
		stored, err = tx.RoomSenderMessages(storage.RoomID(info.ID), host.self(), 0, 2*lines)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	other := keysOf(t, newTestService(t, tn, "").self())
	decode := func(data []byte) room.Message {
		m, err := room.UnmarshalMessage(data)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	// newestHistory checks that resp holds exactly the messages sent at or
	// after its oldest one's time (signed times have millisecond precision,
	// and many lines share one), in time and then seq order.
	newestHistory := func(t *testing.T, resp *roomspb.SyncResponse) {
		got := map[room.MessageID]bool{}
		var prev room.Message
		for i, data := range resp.Messages {
			m := decode(data)
			got[m.ID()] = true
			if i > 0 && (m.Timestamp.Before(prev.Timestamp) || m.Timestamp.Equal(prev.Timestamp) && m.Seq < prev.Seq) {
				t.Fatalf("message %d (seq %d at %v) sent after seq %d at %v", i, m.Seq, m.Timestamp, prev.Seq, prev.Timestamp)
			}
			prev = m
		}
		oldest := decode(resp.Messages[0]).Timestamp
		for _, rm := range stored {
			if want := !rm.Sent.Before(oldest); got[rm.ID] != want && !rm.Sent.Equal(oldest) {
				t.Fatalf("seq %d at %v: sent %v, want %v (oldest sent %v)", rm.Seq, rm.Sent, got[rm.ID], want, oldest)
			}
		}
	}
	tests := []struct {
		name   string
		newest bool
		floors bool
	}{
		{"newcomer", true, true},
		{"gap repair", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := &roomspb.SyncRequest{Room: info.ID[:], Limit: MaxHistory, Newest: tt.newest,
				Have: []*roomspb.HighWater{{Sender: other, Seq: 1}}}
			var resp roomspb.SyncResponse
			if err := host.serveSync(req, &resp); err != nil {
				t.Fatal(err)
			}
			if len(resp.Messages) != MaxHistory {
				t.Fatalf("%d messages, want %d", len(resp.Messages), MaxHistory)
			}
			if tt.newest {
				newestHistory(t, &resp)
			} else if first := decode(resp.Messages[0]); first.Seq != 1 {
				t.Fatalf("gap repair sent seq %d first, not the oldest missing", first.Seq)
			}
			if got := len(resp.Floors) > 0; got != tt.floors {
				t.Fatalf("floors %v, want %v", resp.Floors, tt.floors)
			}
		})
	}
}

func keysOf(t *testing.T, p peer.ID) []byte {
	k, err := senderKey(p)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestRoomBackAlone: a host back from a restart in a room others have been
// in finds nobody to sync with; its first line goes out after the wait, and
// the room stops waiting, so later lines do not wait again.
func TestRoomBackAlone(t *testing.T) {
	home := t.TempDir()
	tn := newTestNet(t)
	host := newTestService(t, tn, home)
	info, err := host.CreateRoom(t.Context(), "back alone", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	listener := newTestService(t, tn, "")
	listener.connect(host)
	if _, err := listener.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := host.RoomSay(t.Context(), info.ID, "before"); err != nil {
		t.Fatal(err)
	}
	host.waitUntil("the listener's presence stored", func() bool {
		var hw map[peer.ID]uint64
		_ = host.store.View(func(tx *storage.Txn) error {
			hw, err = tx.RoomHighWater(storage.RoomID(info.ID))
			return err
		})
		_, ok := hw[listener.self()]
		return ok
	})
	listener.stop()
	host.stop()

	host = newTestService(t, newTestNet(t), home)
	lr, ok := host.get(info.ID)
	if !ok {
		t.Fatal("room not rejoined")
	}
	select {
	case <-lr.synced:
		t.Fatal("a room others were in is marked synced before any sync")
	default:
	}
	for _, text := range []string{"after, first", "after, second"} {
		if _, err := host.RoomSay(t.Context(), info.ID, text); err != nil {
			t.Fatal(err)
		}
		select {
		case <-lr.synced:
		default:
			t.Fatalf("after %q the room still waits for a first sync", text)
		}
	}
}
