package storage

import (
	"bytes"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// totals returns RoomMessageTotals of room, failing the test on error.
func totals(t *testing.T, s *Store, room RoomID) (int, int64) {
	t.Helper()
	var n int
	var size int64
	view(t, s, func(tx *Txn) error {
		var err error
		n, size, err = tx.RoomMessageTotals(room)
		return err
	})
	return n, size
}

// TestRoomMessageTotals: the count and data bytes of one room's messages,
// not another's, and what is left after a prune.
func TestRoomMessageTotals(t *testing.T) {
	s := openMem(t)
	a, b := newPeer(t), newPeer(t)
	room := roomID(1)
	if n, size := totals(t, s, room); n != 0 || size != 0 {
		t.Fatalf("empty room: %d messages, %d bytes", n, size)
	}
	var want int64
	for i := 1; i <= 10; i++ {
		m := roomMsg(room, []peer.ID{a, b}[i%2], uint64(i/2+1), i)
		m.Data = bytes.Repeat([]byte{'x'}, 100*i)
		want += int64(len(m.Data))
		putRoomMsgs(t, s, m)
	}
	putRoomMsgs(t, s, roomMsg(roomID(2), a, 1, 1))
	if n, size := totals(t, s, room); n != 10 || size != want {
		t.Fatalf("%d messages, %d bytes; want 10, %d", n, size, want)
	}
	if _, _, err := s.DropOldestRoomMessages(room, 6, 0, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if n, size := totals(t, s, room); n != 4 || size != 100*(7+8+9+10) {
		t.Fatalf("after pruning to 4: %d messages, %d bytes", n, size)
	}
}

// TestDropOldestRoomMessages: the oldest messages go first, until the
// count, the bytes and the age are all satisfied; the totals returned match
// what is left, and the high-water marks rise over what went.
func TestDropOldestRoomMessages(t *testing.T) {
	a, b := newPeer(t), newPeer(t)
	room := roomID(1)
	// a sends seqs 1..5 at times 1,3,5,7,9, b seqs 1..5 at 2,4,6,8,10;
	// the message sent at time i holds 10*i bytes.
	var ms []RoomMessage
	for i := 1; i <= 10; i++ {
		m := roomMsg(room, []peer.ID{b, a}[i%2], uint64((i+1)/2), i)
		m.Data = bytes.Repeat([]byte{'x'}, 10*i)
		ms = append(ms, m)
	}
	tests := []struct {
		name      string
		count     int
		size      int64
		olderThan time.Time
		wantLeft  []int // sent times, newest first
		wantHW    map[peer.ID]uint64
	}{
		{"nothing", 0, 0, time.Time{}, []int{10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, map[peer.ID]uint64{a: 5, b: 5}},
		{"by count", 3, 0, time.Time{}, []int{10, 9, 8, 7, 6, 5, 4}, map[peer.ID]uint64{a: 5, b: 5}},
		{"by bytes", 1, 10 + 20 + 30 + 1, time.Time{}, []int{10, 9, 8, 7, 6, 5}, map[peer.ID]uint64{a: 5, b: 5}},
		{"by age", 0, 0, at(6), []int{10, 9, 8, 7, 6}, map[peer.ID]uint64{a: 5, b: 5}},
		{"count is the tighter bound", 6, 20, at(3), []int{10, 9, 8, 7}, map[peer.ID]uint64{a: 5, b: 5}},
		{"more than there is", 20, 1 << 20, time.Time{}, nil, map[peer.ID]uint64{a: 5, b: 5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openMem(t)
			putRoomMsgs(t, s, ms...)
			putRoomMsgs(t, s, roomMsg(roomID(2), a, 1, 1)) // another room: untouched
			n0, size0 := totals(t, s, room)
			n, size, err := s.DropOldestRoomMessages(room, tt.count, tt.size, tt.olderThan)
			if err != nil {
				t.Fatal(err)
			}
			if n != 10-len(tt.wantLeft) {
				t.Errorf("dropped %d, want %d", n, 10-len(tt.wantLeft))
			}
			if n1, size1 := totals(t, s, room); n1 != n0-n || size1 != size0-size {
				t.Errorf("left %d messages, %d bytes; dropped %d, %d of %d, %d", n1, size1, n, size, n0, size0)
			}
			if n, _ := totals(t, s, roomID(2)); n != 1 {
				t.Errorf("other room: %d messages", n)
			}
			view(t, s, func(tx *Txn) error {
				left, err := tx.RoomMessages(room, 100, time.Time{})
				if err != nil {
					return err
				}
				if got := sents(left); !slices.Equal(got, tt.wantLeft) {
					t.Errorf("left %v, want %v", got, tt.wantLeft)
				}
				hws, err := tx.RoomHighWater(room)
				if err != nil {
					return err
				}
				if !maps.Equal(hws, tt.wantHW) {
					t.Errorf("high water %v, want %v", hws, tt.wantHW)
				}
				return nil
			})
			// A dropped message that comes back through sync is not stored
			// again.
			notAddedAgain(t, s, ms)
		})
	}
}

// TestDropOldestRoomMessagesBatched: more than one transaction's worth.
func TestDropOldestRoomMessagesBatched(t *testing.T) {
	s := openMem(t)
	room := roomID(1)
	senders := []peer.ID{newPeer(t), newPeer(t), newPeer(t)}
	const total = 2*roomDeleteBatch + 100
	for start := 0; start < total; start += 1000 {
		var ms []RoomMessage
		for i := start; i < min(start+1000, total); i++ {
			ms = append(ms, roomMsg(room, senders[i%3], uint64(i/3+1), i+1))
		}
		putRoomMsgs(t, s, ms...)
	}
	_, size0 := totals(t, s, room)
	n, size, err := s.DropOldestRoomMessages(room, total-50, 0, time.Time{})
	if err != nil || n != total-50 {
		t.Fatalf("dropped %d, %v; want %d", n, err, total-50)
	}
	if n1, size1 := totals(t, s, room); n1 != 50 || size1 != size0-size {
		t.Errorf("left %d messages, %d bytes; want 50, %d", n1, size1, size0-size)
	}
	view(t, s, func(tx *Txn) error {
		left, err := tx.RoomMessages(room, 100, time.Time{})
		if err != nil || len(left) != 50 || sents(left)[49] != total-49 {
			t.Errorf("left %d messages, %v", len(left), err)
		}
		return nil
	})
	if n, _, err := s.DropOldestRoomMessages(room, 0, 0, time.Time{}); n != 0 || err != nil {
		t.Errorf("dropping again with nothing asked: %d, %v", n, err)
	}
}
