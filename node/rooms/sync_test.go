package rooms

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/frame"
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

// TestSyncAnswerLimit: an answer with more messages than we asked for is
// refused as a protocol error, and none of it is stored; a full answer is
// stored, and the room is pruned back within its bound by the sync that
// stored it.
func TestSyncAnswerLimit(t *testing.T) {
	for _, over := range []bool{true, false} {
		t.Run(fmt.Sprint("over=", over), func(t *testing.T) {
			const count = 200
			tn := newTestNet(t)
			ts := newTestService(t, tn, "", func(c *Config) { c.HistoryCount = count })
			bad := newTestService(t, tn, "")
			info, err := ts.CreateRoom(t.Context(), "overlimit", "", time.Time{}, nil)
			if err != nil {
				t.Fatal(err)
			}
			lr, ok := ts.get(info.ID)
			if !ok {
				t.Fatal("room not joined")
			}
			var ids []room.MessageID
			var answer [][]byte
			for i := range MaxHistory + 1 {
				m, data := signChat(t, info.ID, keys.GeneratePrivateKey(), 1, fmt.Sprint("answer ", i))
				ids = append(ids, m.ID())
				answer = append(answer, data)
			}
			if !over {
				ids, answer = ids[:MaxHistory], answer[:MaxHistory]
			}
			bad.net.Host().SetStreamHandler(ProtocolSync, func(st network.Stream) {
				var req roomspb.SyncRequest
				_ = frame.Serve(st, syncTimeout, &req, maxRequestFrame, func() proto.Message {
					return &roomspb.SyncResponse{Messages: answer}
				})
			})
			ts.connect(bad)
			before := totalsOf(t, ts.store, info.ID)
			full, err := ts.syncRoom(lr, bad.self())
			after := totalsOf(t, ts.store, info.ID)
			if !over {
				if err != nil || !full {
					t.Fatalf("sync with a full answer: full %v, %v", full, err)
				}
				if after.count > count+count/10 {
					t.Fatalf("after the sync the store holds %d messages, bound %d", after.count, count+count/10)
				}
				if err := ts.store.View(func(tx *storage.Txn) error {
					ok, err := tx.HasRoomMessage(storage.RoomID(info.ID), ids[len(ids)-1])
					if err != nil || !ok {
						t.Errorf("newest message of the answer held %v, %v", ok, err)
					}
					return nil
				}); err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, errs.ErrProtocol) {
				t.Fatalf("sync with an answer over the limit: %v, want a protocol error", err)
			}
			t.Log(err)
			if after != before {
				t.Errorf("store went from %+v to %+v", before, after)
			}
			if err := ts.store.View(func(tx *storage.Txn) error {
				for _, id := range ids {
					if ok, err := tx.HasRoomMessage(storage.RoomID(info.ID), id); err != nil || ok {
						t.Fatalf("message of the refused answer held %v, %v", ok, err)
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		})
	}
}
