package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// ballot returns voter's ballot in room on target n (emoji empty: an
// upvote), at at(sent).
func ballot(room RoomID, voter peer.ID, n int, emoji string, sent int) RoomBallot {
	var target [32]byte
	target[0] = 0xBA
	binary.BigEndian.PutUint32(target[28:], uint32(n))
	return RoomBallot{Room: room, Voter: voter, Target: target, Emoji: emoji, Time: at(sent),
		Data: []byte(fmt.Sprintf("ballot %s %d %q %d", voter, n, emoji, sent))}
}

func putBallot(t testing.TB, s *Store, b RoomBallot, limit int) (added bool, err error) {
	return putBallotLimits(t, s, b, BallotLimits{Room: limit, Voter: limit})
}

func putBallotLimits(t testing.TB, s *Store, b RoomBallot, limits BallotLimits) (added bool, err error) {
	t.Helper()
	err = s.Update(func(tx *Txn) error {
		added, err = tx.PutRoomBallot(b, limits)
		return err
	})
	return added, err
}

// noLimits bounds nothing a test stores.
var noLimits = BallotLimits{Room: 1 << 20, Voter: 1 << 20}

func roomBallots(t testing.TB, s *Store, room RoomID) []RoomBallot {
	t.Helper()
	var out []RoomBallot
	view(t, s, func(tx *Txn) error {
		return tx.EachRoomBallot(room, func(b RoomBallot) error {
			out = append(out, b)
			return nil
		})
	})
	return out
}

func ballotCount(t testing.TB, s *Store, room RoomID) int {
	t.Helper()
	var n int
	view(t, s, func(tx *Txn) error {
		var err error
		n, err = tx.RoomBallotCount(room)
		return err
	})
	return n
}

func ballotEqual(a, b RoomBallot) bool {
	return a.Room == b.Room && a.Voter == b.Voter && a.Target == b.Target && a.Emoji == b.Emoji &&
		a.Time.Equal(b.Time) && bytes.Equal(a.Data, b.Data)
}

// TestRoomBallotRoundTripAndIdempotence: ballots come back as stored, one
// per voter, target and emoji (a second, even a later one, is not added),
// and each room has its own.
func TestRoomBallotRoundTripAndIdempotence(t *testing.T) {
	s := openMem(t)
	room, other := roomID(1), roomID(2)
	a, b := newPeer(t), newPeer(t)
	want := []RoomBallot{
		ballot(room, a, 1, "", 10),
		ballot(room, a, 1, "👍", 11),
		ballot(room, a, 2, "", 12),
		ballot(room, b, 1, "", 13),
		ballot(room, b, 1, strings.Repeat("x", MaxBallotEmoji), 14),
	}
	for _, bl := range want {
		if added, err := putBallot(t, s, bl, 100); err != nil || !added {
			t.Fatalf("put %+v: %v, %v", bl, added, err)
		}
	}
	if added, err := putBallot(t, s, ballot(other, a, 1, "", 10), 100); err != nil || !added {
		t.Fatalf("put in another room: %v, %v", added, err)
	}
	for _, again := range []RoomBallot{want[0], ballot(room, a, 1, "", 99)} {
		if added, err := putBallot(t, s, again, 100); err != nil || added {
			t.Errorf("put again: %v, %v; want not added", added, err)
		}
	}
	got := roomBallots(t, s, room)
	if len(got) != len(want) {
		t.Fatalf("%d ballots, want %d", len(got), len(want))
	}
	for _, w := range want {
		if !slices.ContainsFunc(got, func(g RoomBallot) bool { return ballotEqual(g, w) }) {
			t.Errorf("ballot %+v not returned as stored", w)
		}
	}
	if n := ballotCount(t, s, room); n != len(want) {
		t.Errorf("count %d, want %d", n, len(want))
	}
	if n := ballotCount(t, s, other); n != 1 {
		t.Errorf("the other room's count %d, want 1", n)
	}
}

// TestRoomBallotLimit: a room holds at most limit ballots; one more is
// refused with ErrFull, storing nothing, while a ballot already held is
// still answered as not added, and another room is not affected; pruning
// makes room again.
func TestRoomBallotLimit(t *testing.T) {
	s := openMem(t)
	room, other := roomID(1), roomID(2)
	a := newPeer(t)
	const limit = 5
	for i := range limit {
		if _, err := putBallot(t, s, ballot(room, a, i+1, "", i+1), limit); err != nil {
			t.Fatal(err)
		}
	}
	before := allKeys(t, s)
	if _, err := putBallot(t, s, ballot(room, a, 99, "", 50), limit); !errors.Is(err, ErrFull) {
		t.Fatalf("ballot past the limit: %v, want ErrFull", err)
	}
	if after := allKeys(t, s); !slices.Equal(after, before) {
		t.Error("a refused ballot changed the store")
	}
	if added, err := putBallot(t, s, ballot(room, a, 1, "", 1), limit); err != nil || added {
		t.Errorf("a held ballot at the limit: %v, %v; want not added, no error", added, err)
	}
	if _, err := putBallot(t, s, ballot(other, a, 99, "", 50), limit); err != nil {
		t.Errorf("another room: %v", err)
	}
	if n, err := s.PruneRoomBallots(room, at(3)); err != nil || n != 2 {
		t.Fatalf("prune: %d, %v; want 2", n, err)
	}
	if _, err := putBallot(t, s, ballot(room, a, 99, "", 50), limit); err != nil {
		t.Errorf("after pruning: %v", err)
	}
	if n := ballotCount(t, s, room); n != limit-1 {
		t.Errorf("count %d, want %d", n, limit-1)
	}
}

// TestRoomBallotVoterLimit: one voter holds at most its limit of a room's
// ballots; others still vote.
func TestRoomBallotVoterLimit(t *testing.T) {
	s := openMem(t)
	room := roomID(1)
	a, b := newPeer(t), newPeer(t)
	limits := BallotLimits{Room: 100, Voter: 3}
	for i := range 3 {
		if _, err := putBallotLimits(t, s, ballot(room, a, 1, fmt.Sprint(i), i+1), limits); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := putBallotLimits(t, s, ballot(room, a, 2, "", 9), limits); !errors.Is(err, ErrFull) {
		t.Errorf("the voter's fourth ballot: %v, want ErrFull", err)
	}
	if added, err := putBallotLimits(t, s, ballot(room, a, 1, "0", 1), limits); err != nil || added {
		t.Errorf("a held ballot at the voter's limit: %v, %v; want not added, no error", added, err)
	}
	if _, err := putBallotLimits(t, s, ballot(room, b, 2, "", 9), limits); err != nil {
		t.Errorf("another voter: %v", err)
	}
}

// TestPruneRoomBallots: pruning deletes the ballots older than the cutoff
// with their index entries, in one transaction or in batches, and nothing
// of another room; a zero cutoff prunes nothing.
func TestPruneRoomBallots(t *testing.T) {
	for _, tt := range []struct {
		name    string
		n       int
		batched bool
	}{
		{"txn", 40, false},
		{"store across batches", 2*roomBallotDeleteBatch + 9, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s := openMem(t)
			room, other := roomID(1), roomID(2)
			voters := []peer.ID{newPeer(t), newPeer(t), newPeer(t)}
			fill := func(r RoomID) {
				for start := 0; start < tt.n; start += 1000 {
					update(t, s, func(tx *Txn) error {
						for i := start; i < min(start+1000, tt.n); i++ {
							if _, err := tx.PutRoomBallot(ballot(r, voters[i%3], i/3, "", i+1), noLimits); err != nil {
								return err
							}
						}
						return nil
					})
				}
			}
			fill(other)
			fill(room)
			cut := tt.n/2 + 1 // ballots sent at 1 … n/2 go
			prune := func(olderThan int) (int, error) {
				if tt.batched {
					return s.PruneRoomBallots(room, at(olderThan))
				}
				var n int
				err := s.Update(func(tx *Txn) error {
					var err error
					n, err = tx.PruneRoomBallots(room, at(olderThan))
					return err
				})
				return n, err
			}
			n, err := prune(cut)
			if err != nil || n != cut-1 {
				t.Fatalf("pruned %d, %v; want %d", n, err, cut-1)
			}
			left := roomBallots(t, s, room)
			if len(left) != tt.n-(cut-1) || ballotCount(t, s, room) != len(left) {
				t.Fatalf("%d left, count %d; want %d", len(left), ballotCount(t, s, room), tt.n-(cut-1))
			}
			for _, b := range left {
				if b.Time.Before(at(cut)) {
					t.Fatalf("an old ballot stayed: %v", b.Time)
				}
			}
			if ballotCount(t, s, other) != tt.n {
				t.Error("pruning touched another room")
			}
			if n, err := s.PruneRoomBallots(room, time.Time{}); err != nil || n != 0 {
				t.Errorf("a zero cutoff pruned %d, %v", n, err)
			}
			// Pruning the rest leaves no key of the room.
			if _, err := s.PruneRoomBallots(room, at(tt.n+1)); err != nil {
				t.Fatal(err)
			}
			for _, k := range allKeys(t, s) {
				if strings.Contains(k, string(room[:])) {
					t.Fatalf("left behind: %q", k)
				}
			}
		})
	}
}

// TestDeleteRoomDeletesBallots: deleting a room deletes its ballots,
// however many.
func TestDeleteRoomDeletesBallots(t *testing.T) {
	s := openMem(t)
	room := roomID(1)
	update(t, s, func(tx *Txn) error { return tx.PutRoom(Room{ID: room, Descriptor: []byte("d"), Name: "room"}) })
	a := newPeer(t)
	for start := 0; start < 5000; start += 1000 {
		update(t, s, func(tx *Txn) error {
			for i := start; i < start+1000; i++ {
				if _, err := tx.PutRoomBallot(ballot(room, a, i%200, fmt.Sprint(i/200), i+1), noLimits); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := s.DeleteRoom(room); err != nil {
		t.Fatal(err)
	}
	if ks := allKeys(t, s); len(ks) != 0 {
		t.Errorf("%d keys left", len(ks))
	}
}

// TestRoomBallotInvalid: a ballot the store cannot key or date is refused.
func TestRoomBallotInvalid(t *testing.T) {
	s := openMem(t)
	a := newPeer(t)
	good := ballot(roomID(1), a, 1, "", 1)
	for name, change := range map[string]func(*RoomBallot){
		"zero room":   func(b *RoomBallot) { b.Room = RoomID{} },
		"no voter":    func(b *RoomBallot) { b.Voter = "" },
		"zero target": func(b *RoomBallot) { b.Target = [32]byte{} },
		"long emoji":  func(b *RoomBallot) { b.Emoji = strings.Repeat("x", MaxBallotEmoji+1) },
		"no time":     func(b *RoomBallot) { b.Time = time.Time{} },
		"no data":     func(b *RoomBallot) { b.Data = nil },
	} {
		b := good
		change(&b)
		if _, err := putBallot(t, s, b, 10); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", name, err)
		}
	}
}

// TestBallotTailRoundTrip: a ballot's key tail parses back; a truncated
// or padded one is corrupt.
func TestBallotTailRoundTrip(t *testing.T) {
	b := ballot(roomID(1), peer.ID("voter"), 7, "🎉", 1)
	tail, err := ballotTail(b)
	if err != nil {
		t.Fatal(err)
	}
	v, target, emoji, err := parseBallotTail(tail)
	if err != nil || v != b.Voter || target != b.Target || emoji != b.Emoji {
		t.Fatalf("parsed %q %x %q, %v", v, target, emoji, err)
	}
	for _, bad := range [][]byte{nil, tail[:len(tail)-1], append(slices.Clone(tail), 0), {0}} {
		if _, _, _, err := parseBallotTail(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("parse %x: %v, want ErrCorrupt", bad, err)
		}
	}
}
