package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"maps"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// roomID returns a room ID that encodes n.
func roomID(n int) RoomID {
	var id RoomID
	id[0] = 0xCC
	id[31] = byte(n)
	return id
}

// roomMsg returns message seq of sender in room, sent at at(sent); its ID
// encodes sender, seq and sent, so equal arguments give equal messages.
func roomMsg(room RoomID, sender peer.ID, seq uint64, sent int) RoomMessage {
	var id [32]byte
	copy(id[:16], sender[len(sender)-16:])
	binary.BigEndian.PutUint64(id[16:], seq)
	binary.BigEndian.PutUint64(id[24:], uint64(sent))
	return RoomMessage{
		Room: room, ID: id, Sender: sender, Seq: seq,
		Sent: at(sent), Received: at(sent).Add(time.Millisecond),
		Data: []byte("signed room message " + string(id[:])),
	}
}

// putRoomMsgs stores ms, failing the test on error.
func putRoomMsgs(t testing.TB, s *Store, ms ...RoomMessage) {
	t.Helper()
	update(t, s, func(tx *Txn) error {
		for _, m := range ms {
			if _, err := tx.PutRoomMessage(m); err != nil {
				return err
			}
		}
		return nil
	})
}

func roomMsgEqual(a, b RoomMessage) bool {
	return a.Room == b.Room && a.ID == b.ID && a.Sender == b.Sender && a.Seq == b.Seq &&
		a.Sent.Equal(b.Sent) && a.Received.Equal(b.Received) && bytes.Equal(a.Data, b.Data)
}

// sents returns the sent times of ms as at() numbers.
func sents(ms []RoomMessage) []int {
	var ns []int
	for _, m := range ms {
		ns = append(ns, int(m.Sent.Sub(epoch)/time.Second))
	}
	return ns
}

// seqs returns the seqs of ms.
func seqs(ms []RoomMessage) []uint64 {
	var ns []uint64
	for _, m := range ms {
		ns = append(ns, m.Seq)
	}
	return ns
}

func TestRoomsRoundTripAndOrder(t *testing.T) {
	s := openMem(t)
	rooms := []Room{
		{ID: roomID(3), Descriptor: []byte("d3"), Name: "beta", Updated: at(1), HasOwnName: true, OwnName: "Zoë"},
		{ID: roomID(1), Descriptor: []byte("d1"), Name: "alpha", Joined: true, JoinedAt: at(2), Updated: at(3)},
		{ID: roomID(2), Descriptor: []byte("d2"), Name: "beta", Joined: true, JoinedAt: at(4), Updated: at(4)},
		{ID: roomID(4), Descriptor: []byte("d4"), Name: "ünïcode ✓", HasOwnName: true}, // no name
	}
	update(t, s, func(tx *Txn) error {
		for _, r := range rooms {
			if err := tx.PutRoom(r); err != nil {
				return err
			}
		}
		return nil
	})
	view(t, s, func(tx *Txn) error {
		for _, want := range rooms {
			got, err := tx.Room(want.ID)
			if err != nil || !roomEqual(got, want) {
				t.Errorf("Room(%s) = %+v, %v; want %+v", want.ID, got, err, want)
			}
		}
		if _, err := tx.Room(roomID(99)); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing room: %v", err)
		}
		rs, err := tx.Rooms()
		if err != nil {
			return err
		}
		var order []RoomID
		for _, r := range rs {
			order = append(order, r.ID)
		}
		if want := []RoomID{roomID(1), roomID(2), roomID(3), roomID(4)}; !slices.Equal(order, want) {
			t.Errorf("Rooms order %v, want %v", order, want)
		}
		return nil
	})
	// Replacing a room keeps its messages.
	putRoomMsgs(t, s, roomMsg(roomID(1), newPeer(t), 1, 1))
	left := rooms[1]
	left.Joined = false
	update(t, s, func(tx *Txn) error { return tx.PutRoom(left) })
	view(t, s, func(tx *Txn) error {
		if got, err := tx.Room(left.ID); err != nil || got.Joined {
			t.Errorf("after leaving: %+v, %v", got, err)
		}
		if ms, err := tx.RoomMessages(left.ID, 10, time.Time{}); err != nil || len(ms) != 1 {
			t.Errorf("messages after PutRoom: %d, %v", len(ms), err)
		}
		return nil
	})
}

func roomEqual(a, b Room) bool {
	return a.ID == b.ID && bytes.Equal(a.Descriptor, b.Descriptor) && a.Name == b.Name &&
		a.Joined == b.Joined && a.JoinedAt.Equal(b.JoinedAt) && a.Updated.Equal(b.Updated) &&
		a.HasOwnName == b.HasOwnName && a.OwnName == b.OwnName
}

func TestRoomByName(t *testing.T) {
	s := openMem(t)
	update(t, s, func(tx *Txn) error {
		for i, name := range []string{"solo", "twin", "twin"} {
			if err := tx.PutRoom(Room{ID: roomID(i + 1), Descriptor: []byte("d"), Name: name}); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name    string
		wantID  RoomID
		wantErr error
	}{
		{"solo", roomID(1), nil},
		{"twin", RoomID{}, ErrAmbiguous},
		{"nobody", RoomID{}, ErrNotFound},
		{"", RoomID{}, ErrInvalid},
	}
	view(t, s, func(tx *Txn) error {
		for _, tt := range tests {
			r, err := tx.RoomByName(tt.name)
			if !errors.Is(err, tt.wantErr) || r.ID != tt.wantID {
				t.Errorf("RoomByName(%q) = %s, %v; want %s, %v", tt.name, r.ID, err, tt.wantID, tt.wantErr)
			}
		}
		return nil
	})
}

func TestRoomMessageRoundTripAndIdempotence(t *testing.T) {
	s := openMem(t)
	room, other := roomID(1), roomID(2)
	a := newPeer(t)
	m := roomMsg(room, a, 1, 1)
	noReceived := roomMsg(room, a, 2, 2)
	noReceived.Received = time.Time{}
	tests := []struct {
		name      string
		m         RoomMessage
		wantAdded bool
		wantErr   error
	}{
		{"new", m, true, nil},
		{"again", m, false, nil},
		{"same message in another room", func() RoomMessage { c := m; c.Room = other; return c }(), true, nil},
		{"no receive time", noReceived, true, nil},
		{"other message at the same seq", func() RoomMessage { c := roomMsg(room, a, 1, 9); return c }(), false, ErrMismatch},
	}
	for _, tt := range tests {
		var added bool
		err := s.Update(func(tx *Txn) error {
			var err error
			added, err = tx.PutRoomMessage(tt.m)
			return err
		})
		if added != tt.wantAdded || !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: added %v, %v; want %v, %v", tt.name, added, err, tt.wantAdded, tt.wantErr)
		}
	}
	view(t, s, func(tx *Txn) error {
		for _, want := range []RoomMessage{m, noReceived} {
			got, err := tx.RoomMessage(room, want.ID)
			if err != nil || !roomMsgEqual(got, want) {
				t.Errorf("RoomMessage = %+v, %v; want %+v", got, err, want)
			}
			if ok, err := tx.HasRoomMessage(room, want.ID); !ok || err != nil {
				t.Errorf("HasRoomMessage = %v, %v", ok, err)
			}
		}
		ms, err := tx.RoomMessages(room, 10, time.Time{})
		if err != nil || len(ms) != 2 {
			t.Errorf("room holds %d messages, %v; want 2", len(ms), err)
		}
		missing := roomMsg(room, a, 5, 5).ID
		if ok, err := tx.HasRoomMessage(room, missing); ok || err != nil {
			t.Errorf("HasRoomMessage(missing) = %v, %v", ok, err)
		}
		if _, err := tx.RoomMessage(room, missing); !errors.Is(err, ErrNotFound) {
			t.Errorf("RoomMessage(missing): %v", err)
		}
		return nil
	})
}

func TestRoomMessagesNewestFirstAndPaging(t *testing.T) {
	s := openMem(t)
	room, other := roomID(1), roomID(2)
	a, b := newPeer(t), newPeer(t)
	// Two senders interleaved, stored out of order; another room in between.
	putRoomMsgs(t, s,
		roomMsg(room, a, 3, 5), roomMsg(room, b, 1, 2), roomMsg(room, a, 1, 1), roomMsg(room, b, 3, 6),
		roomMsg(room, a, 2, 3), roomMsg(room, b, 2, 4), roomMsg(other, a, 1, 7), roomMsg(other, b, 1, 0))
	tests := []struct {
		name   string
		limit  int
		before time.Time
		want   []int
	}{
		{"latest 3", 3, time.Time{}, []int{6, 5, 4}},
		{"all", 100, time.Time{}, []int{6, 5, 4, 3, 2, 1}},
		{"page before 4", 2, at(4), []int{3, 2}},
		{"last page", 2, at(2), []int{1}},
		{"before the first", 2, at(1), nil},
		{"after the newest", 2, at(100), []int{6, 5}},
	}
	view(t, s, func(tx *Txn) error {
		for _, tt := range tests {
			ms, err := tx.RoomMessages(room, tt.limit, tt.before)
			if err != nil {
				return err
			}
			if got := sents(ms); !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
			for _, m := range ms {
				if m.Room != room {
					t.Errorf("%s: message of room %s", tt.name, m.Room)
				}
			}
		}
		if ms, err := tx.RoomMessages(roomID(9), 10, time.Time{}); len(ms) != 0 || err != nil {
			t.Errorf("empty room: %v, %v", ms, err)
		}
		return nil
	})
}

func TestRoomSenderMessages(t *testing.T) {
	s := openMem(t)
	room := roomID(1)
	a, b := newPeer(t), newPeer(t)
	putRoomMsgs(t, s, roomMsg(room, a, 5, 5), roomMsg(room, a, 1, 1), roomMsg(room, a, 3, 3),
		roomMsg(room, a, 2, 2), roomMsg(room, b, 1, 4), roomMsg(room, b, 2, 6), roomMsg(roomID(2), a, 4, 4))
	tests := []struct {
		name     string
		sender   peer.ID
		afterSeq uint64
		limit    int
		want     []uint64
	}{
		{"all of a", a, 0, 100, []uint64{1, 2, 3, 5}},
		{"after 1", a, 1, 100, []uint64{2, 3, 5}},
		{"after 2, limit 1", a, 2, 1, []uint64{3}},
		{"after a gap", a, 4, 100, []uint64{5}},
		{"after the last", a, 5, 100, nil},
		{"max seq", a, math.MaxUint64, 100, nil},
		{"b", b, 0, 100, []uint64{1, 2}},
		{"unknown sender", newPeer(t), 0, 100, nil},
	}
	view(t, s, func(tx *Txn) error {
		for _, tt := range tests {
			ms, err := tx.RoomSenderMessages(room, tt.sender, tt.afterSeq, tt.limit)
			if err != nil {
				return err
			}
			if got := seqs(ms); !slices.Equal(got, tt.want) {
				t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
			}
			for _, m := range ms {
				if m.Sender != tt.sender || m.Room != room || !roomMsgEqual(m, roomMsg(room, tt.sender, m.Seq, int(m.Sent.Sub(epoch)/time.Second))) {
					t.Errorf("%s: unexpected message %+v", tt.name, m)
				}
			}
		}
		return nil
	})
}

func TestRoomHighWaterAndMissing(t *testing.T) {
	tests := []struct {
		name        string
		put         []uint64
		wantHW      uint64
		upTo        uint64
		limit       int
		wantMissing []uint64
	}{
		{"in order", []uint64{1, 2, 3}, 3, 3, 10, nil},
		{"gap filled out of order", []uint64{3, 1, 2}, 3, 5, 10, []uint64{4, 5}},
		{"one gap", []uint64{1, 3}, 1, 3, 10, []uint64{2}},
		{"no seq 1", []uint64{2, 3}, 0, 4, 10, []uint64{1, 4}},
		{"several gaps", []uint64{1, 3, 6, 7}, 1, 9, 10, []uint64{2, 4, 5, 8, 9}},
		{"bounded by limit", []uint64{1, 3, 6, 7}, 1, 9, 3, []uint64{2, 4, 5}},
		{"upTo inside a gap", []uint64{1, 3, 6}, 1, 4, 10, []uint64{2, 4}},
		{"upTo below the mark", []uint64{1, 2, 3}, 3, 2, 10, nil},
		{"long run after the gap", []uint64{5, 4, 3, 2, 1, 9}, 5, 10, 10, []uint64{6, 7, 8, 10}},
		{"huge upTo", []uint64{1}, 1, math.MaxUint64, 2, []uint64{2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := openMem(t)
			room := roomID(1)
			a, b := newPeer(t), newPeer(t)
			for i, seq := range tt.put {
				putRoomMsgs(t, s, roomMsg(room, a, seq, i+1))
			}
			putRoomMsgs(t, s, roomMsg(room, b, 1, 100), roomMsg(roomID(2), a, 1, 100), roomMsg(roomID(2), a, 2, 101))
			view(t, s, func(tx *Txn) error {
				hws, err := tx.RoomHighWater(room)
				if err != nil {
					return err
				}
				if want := map[peer.ID]uint64{a: tt.wantHW, b: 1}; !maps.Equal(hws, want) {
					t.Errorf("high water %v, want %v", hws, want)
				}
				missing, err := tx.RoomMissing(room, a, tt.upTo, tt.limit)
				if err != nil {
					return err
				}
				if !slices.Equal(missing, tt.wantMissing) {
					t.Errorf("missing %v, want %v", missing, tt.wantMissing)
				}
				return nil
			})
		})
	}
}

func TestRoomHighWaterEmpty(t *testing.T) {
	s := openMem(t)
	view(t, s, func(tx *Txn) error {
		hws, err := tx.RoomHighWater(roomID(1))
		if err != nil || len(hws) != 0 {
			t.Errorf("empty room: %v, %v", hws, err)
		}
		missing, err := tx.RoomMissing(roomID(1), newPeer(t), 3, 10)
		if err != nil || !slices.Equal(missing, []uint64{1, 2, 3}) {
			t.Errorf("missing in an empty room: %v, %v", missing, err)
		}
		return nil
	})
}

// TestRoomHeld: a seq is held when it is at or below the sender's mark
// (stored, or given up by SkipRoomHistory) or stored above it; a gap, a seq
// past everything, another sender's or another room's are not.
func TestRoomHeld(t *testing.T) {
	s := openMem(t)
	room := roomID(1)
	a, b, c := newPeer(t), newPeer(t), newPeer(t)
	putRoomMsgs(t, s, roomMsg(room, a, 1, 1), roomMsg(room, a, 2, 2), roomMsg(room, a, 5, 3),
		roomMsg(roomID(2), c, 1, 4))
	update(t, s, func(tx *Txn) error { return tx.SkipRoomHistory(room, b, 10) })
	tests := []struct {
		name   string
		sender peer.ID
		seq    uint64
		want   bool
	}{
		{"below the mark", a, 1, true},
		{"at the mark", a, 2, true},
		{"in a gap", a, 3, false},
		{"stored above the mark", a, 5, true},
		{"past everything", a, 6, false},
		{"given up by a newcomer", b, 7, true},
		{"above a newcomer's floor", b, 11, false},
		{"unknown sender", c, 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			view(t, s, func(tx *Txn) error {
				got, err := tx.RoomHeld(room, tt.sender, tt.seq)
				if err != nil {
					return err
				}
				if got != tt.want {
					t.Errorf("RoomHeld(seq %d) = %v, want %v", tt.seq, got, tt.want)
				}
				return nil
			})
		})
	}
}

// TestDropOldestRoomMessagesAcrossGap: dropping by count and by age over a
// sender whose messages have a gap raises its high-water mark only as far
// as what went allows; the index forgets what went; another room is
// untouched. In one transaction and in the Store's batches.
func TestDropOldestRoomMessagesAcrossGap(t *testing.T) {
	a, b := newPeer(t), newPeer(t)
	room := roomID(1)
	// a sends seqs 1..6 at times 1,3,5,7,9,11; b seqs 1,2,4,5 at 2,4,8,10:
	// b's seq 3 (at 6) never arrived, a gap.
	var ms []RoomMessage
	for i := 1; i <= 6; i++ {
		ms = append(ms, roomMsg(room, a, uint64(i), 2*i-1))
	}
	for _, i := range []int{1, 2, 4, 5} {
		ms = append(ms, roomMsg(room, b, uint64(i), 2*i))
	}
	tests := []struct {
		name      string
		count     int // to drop at least: the messages beyond the newest we keep
		olderThan time.Time
		wantN     int
		wantLeft  []int // sent times, newest first
		wantHW    map[peer.ID]uint64
	}{
		{"nothing to do", 0, time.Time{}, 0, []int{11, 10, 9, 8, 7, 5, 4, 3, 2, 1}, map[peer.ID]uint64{a: 6, b: 2}},
		{"by count", 7, time.Time{}, 7, []int{11, 10, 9}, map[peer.ID]uint64{a: 6, b: 5}},
		{"by age", 0, at(5), 4, []int{11, 10, 9, 8, 7, 5}, map[peer.ID]uint64{a: 6, b: 2}},
		{"by age across the gap", 0, at(9), 7, []int{11, 10, 9}, map[peer.ID]uint64{a: 6, b: 5}},
		{"count is the tighter bound", 8, at(5), 8, []int{11, 10}, map[peer.ID]uint64{a: 6, b: 5}},
		{"age is the tighter bound", 2, at(8), 6, []int{11, 10, 9, 8}, map[peer.ID]uint64{a: 6, b: 2}},
		{"all of them", 10, time.Time{}, 10, nil, map[peer.ID]uint64{a: 6, b: 5}},
	}
	for _, tt := range tests {
		for _, batched := range []bool{false, true} {
			name := tt.name
			if batched {
				name += "/store"
			}
			t.Run(name, func(t *testing.T) {
				s := openMem(t)
				putRoomMsgs(t, s, ms...)
				putRoomMsgs(t, s, roomMsg(roomID(2), a, 1, 1)) // another room: untouched
				var n int
				var err error
				if batched {
					n, _, err = s.DropOldestRoomMessages(room, tt.count, 0, tt.olderThan)
				} else {
					var cutoff uint64
					if !tt.olderThan.IsZero() {
						cutoff, _ = timeKey(tt.olderThan)
					}
					err = s.Update(func(tx *Txn) error {
						n, _, _, err = tx.dropOldestRoomMessages(room, tt.count, 0, cutoff, math.MaxInt)
						return err
					})
				}
				if err != nil || n != tt.wantN {
					t.Errorf("dropped %d, %v; want %d", n, err, tt.wantN)
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
					for _, m := range ms {
						ok, err := tx.HasRoomMessage(room, m.ID)
						if want := slices.Contains(tt.wantLeft, int(m.Sent.Sub(epoch)/time.Second)); ok != want || err != nil {
							t.Errorf("HasRoomMessage(sent %v) = %v, %v; want %v", m.Sent, ok, err, want)
						}
					}
					if other, err := tx.RoomMessages(roomID(2), 10, time.Time{}); err != nil || len(other) != 1 {
						t.Errorf("other room: %d messages, %v", len(other), err)
					}
					return nil
				})
				// Neither a kept nor a pruned message that comes back through
				// sync is stored again.
				notAddedAgain(t, s, ms)
			})
		}
	}
}

func TestDeleteRoom(t *testing.T) {
	for _, tt := range []struct {
		name     string
		messages int
		batched  bool
	}{
		{"txn", 30, false},
		{"store small", 30, true},
		{"store across batches", 2*roomDeleteBatch + 7, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openMem(t)
			room, other := roomID(1), roomID(2)
			a, b := newPeer(t), newPeer(t)
			fill := func(r RoomID) {
				update(t, s, func(tx *Txn) error {
					return tx.PutRoom(Room{ID: r, Descriptor: []byte("d"), Name: "room"})
				})
				for start := 0; start < tt.messages; start += 1000 {
					var ms []RoomMessage
					for i := start; i < min(start+1000, tt.messages); i++ {
						ms = append(ms, roomMsg(r, []peer.ID{a, b}[i%2], uint64(i/2+1), i+1))
					}
					putRoomMsgs(t, s, ms...)
				}
			}
			fill(other)
			before := allKeys(t, s)
			fill(room)
			var err error
			if tt.batched {
				err = s.DeleteRoom(room)
			} else {
				err = s.Update(func(tx *Txn) error { return tx.DeleteRoom(room) })
			}
			if err != nil {
				t.Fatal(err)
			}
			if after := allKeys(t, s); !slices.Equal(after, before) {
				t.Errorf("%d keys left, want the other room's %d", len(after), len(before))
				for _, k := range after {
					if strings.Contains(k, string(room[:])) {
						t.Errorf("left behind: %q", k)
						break
					}
				}
			}
			if err := s.DeleteRoom(room); err != nil {
				t.Errorf("deleting again: %v", err)
			}
		})
	}
}

func TestDeleteRoomTooBigForOneTxn(t *testing.T) {
	s := openMem(t)
	room := roomID(1)
	a := newPeer(t)
	const total = 12_000
	for start := 0; start < total; start += 1000 {
		var ms []RoomMessage
		for i := start; i < start+1000; i++ {
			ms = append(ms, roomMsg(room, a, uint64(i+1), i+1))
		}
		putRoomMsgs(t, s, ms...)
	}
	err := s.Update(func(tx *Txn) error { return tx.DeleteRoom(room) })
	if !errors.Is(err, ErrTxnTooBig) {
		t.Errorf("Txn.DeleteRoom of %d messages: %v, want ErrTxnTooBig", total, err)
	}
	if err := s.DeleteRoom(room); err != nil {
		t.Fatal(err)
	}
	if ks := allKeys(t, s); len(ks) != 0 {
		t.Errorf("%d keys left", len(ks))
	}
}

func TestRoomInvalidArguments(t *testing.T) {
	s := openMem(t)
	a := newPeer(t)
	valid := roomMsg(roomID(1), a, 1, 1)
	with := func(f func(*RoomMessage)) RoomMessage { m := valid; f(&m); return m }
	put := func(m RoomMessage) func(*Txn) error {
		return func(tx *Txn) error { _, err := tx.PutRoomMessage(m); return err }
	}
	tests := []struct {
		name string
		fn   func(*Txn) error
	}{
		{"room zero ID", func(tx *Txn) error { return tx.PutRoom(Room{Descriptor: []byte("d")}) }},
		{"room no descriptor", func(tx *Txn) error { return tx.PutRoom(Room{ID: roomID(1)}) }},
		{"room bad UTF-8 name", func(tx *Txn) error { return tx.PutRoom(Room{ID: roomID(1), Descriptor: []byte("d"), Name: "\xff"}) }},
		{"message zero room", put(with(func(m *RoomMessage) { m.Room = RoomID{} }))},
		{"message zero ID", put(with(func(m *RoomMessage) { m.ID = [32]byte{} }))},
		{"message no sender", put(with(func(m *RoomMessage) { m.Sender = "" }))},
		{"message long sender", put(with(func(m *RoomMessage) { m.Sender = peer.ID(make([]byte, 256)) }))},
		{"message seq 0", put(with(func(m *RoomMessage) { m.Seq = 0 }))},
		{"message zero sent", put(with(func(m *RoomMessage) { m.Sent = time.Time{} }))},
		{"message no data", put(with(func(m *RoomMessage) { m.Data = nil }))},
		{"messages limit", func(tx *Txn) error { _, err := tx.RoomMessages(roomID(1), 0, time.Time{}); return err }},
		{"sender messages limit", func(tx *Txn) error { _, err := tx.RoomSenderMessages(roomID(1), a, 0, 0); return err }},
		{"sender messages no sender", func(tx *Txn) error { _, err := tx.RoomSenderMessages(roomID(1), "", 0, 1); return err }},
		{"missing limit", func(tx *Txn) error { _, err := tx.RoomMissing(roomID(1), a, 5, 0); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.Update(tt.fn); !errors.Is(err, ErrInvalid) {
				t.Errorf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestRoomRefRoundTrip(t *testing.T) {
	p := newPeer(t)
	for _, seq := range []uint64{1, 2, math.MaxUint64} {
		sender, got, err := decodeRoomRef(encodeRoomRef(p, seq))
		if err != nil || sender != p || got != seq {
			t.Errorf("ref %d: %s, %d, %v", seq, sender, got, err)
		}
	}
	for _, b := range [][]byte{nil, {0}, encodeRoomRef(p, 0), append(encodeRoomRef(p, 1), 0)} {
		if _, _, err := decodeRoomRef(b); !errors.Is(err, ErrCorrupt) {
			t.Errorf("decodeRoomRef(%x): %v, want ErrCorrupt", b, err)
		}
	}
}

// notAddedAgain checks that none of ms, each stored once already (kept, or
// pruned since), is stored again when it comes back.
func notAddedAgain(t *testing.T, s *Store, ms []RoomMessage) {
	t.Helper()
	for _, m := range ms {
		var added bool
		update(t, s, func(tx *Txn) error {
			var err error
			added, err = tx.PutRoomMessage(m)
			return err
		})
		if added {
			t.Errorf("message %d of %s added again", m.Seq, m.Sender)
		}
	}
}
