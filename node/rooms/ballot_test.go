package rooms

import (
	"fmt"
	"io"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// ballotRoom is a room where listeners hand their votes from 4 peers
// present, tallied every 50 ms, with a census every 200 ms.
func ballotRoom(c *Config) {
	c.BallotFrom = 4
	c.TallyInterval = 50 * time.Millisecond
	c.CensusInterval = 200 * time.Millisecond
}

// signing is the service's identity key.
func (ts *testService) signing() keys.PrivateKey { return ts.env.Identity.Signing() }

// counts returns what ts's state counts of a target: upvotes (emoji
// empty) or reactions with an emoji.
func (ts *testService) count(id room.ID, target room.MessageID, emoji string) int {
	n := -1
	_ = ts.State(id, func(s *roomstate.State) { n = s.Count(target, emoji) })
	return n
}

// present is how many peers ts counts present in the room.
func (ts *testService) present(id room.ID) int {
	n := 0
	_ = ts.State(id, func(s *roomstate.State) {
		l, sp := s.Presence(time.Now())
		n = l + len(sp)
	})
	return n
}

// storedVotes returns the upvote and reaction messages ts stores of a
// room, by sender.
func (ts *testService) storedVotes(id room.ID) map[peer.ID]int {
	ts.t.Helper()
	out := map[peer.ID]int{}
	err := ts.store.View(func(tx *storage.Txn) error {
		ms, err := tx.RoomMessages(storage.RoomID(id), 100_000, time.Time{})
		for _, rm := range ms {
			m, err := room.UnmarshalMessage(rm.Data)
			if err == nil && (m.Kind == room.KindUpvote || m.Kind == room.KindReaction) {
				out[rm.Sender]++
			}
		}
		return err
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	return out
}

// census is the peers present by the latest census ts stores, 0 if none.
func (ts *testService) census(id room.ID) int {
	ts.t.Helper()
	var latest roomstate.TallyBody
	var at time.Time
	err := ts.store.View(func(tx *storage.Txn) error {
		ms, err := tx.RoomMessages(storage.RoomID(id), 100_000, time.Time{})
		for _, rm := range ms {
			m, err := room.UnmarshalMessage(rm.Data)
			if err != nil || m.Kind != room.KindTally || m.Timestamp.Before(at) {
				continue
			}
			if tb, err := roomstate.DecodeTally(m.Body); err == nil && tb.Present > 0 {
				latest, at = tb, m.Timestamp
			}
		}
		return err
	})
	if err != nil {
		ts.t.Fatal(err)
	}
	return int(latest.Present)
}

// storedBallots counts the ballots ts keeps of a room.
func (ts *testService) storedBallots(id room.ID) int {
	ts.t.Helper()
	var n int
	if err := ts.store.View(func(tx *storage.Txn) error {
		var err error
		n, err = tx.RoomBallotCount(storage.RoomID(id))
		return err
	}); err != nil {
		ts.t.Fatal(err)
	}
	return n
}

// ballotFixture is a host and listeners in a room where ballots are handed
// from 4 peers present, each listener connected to the host, and a
// question and a chat line everyone has seen.
type ballotFixture struct {
	tn        *testNet
	home      string
	host      *testService
	listeners []*testService
	id        room.ID
	q, line   room.MessageID
}

func newBallotFixture(t *testing.T, tn *testNet, listeners int, hostMod ...func(*Config)) *ballotFixture {
	f := &ballotFixture{tn: tn, home: t.TempDir()}
	f.host = newTestService(t, f.tn, f.home, append([]func(*Config){ballotRoom}, hostMod...)...)
	info, err := f.host.CreateRoom(t.Context(), "a large room", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.id = info.ID
	for range listeners {
		l := newTestService(t, f.tn, "", ballotRoom)
		l.connect(f.host)
		if _, err := l.JoinRoom(t.Context(), f.id.String(), nil); err != nil {
			t.Fatal(err)
		}
		f.listeners = append(f.listeners, l)
	}
	if f.q, err = f.listeners[0].RoomAsk(t.Context(), f.id, "why?"); err != nil {
		t.Fatal(err)
	}
	if f.line, err = f.host.RoomSay(t.Context(), f.id, "welcome"); err != nil {
		t.Fatal(err)
	}
	for _, n := range f.everyone() {
		n.waitUntil("everyone present, the question and the line", func() bool {
			var known bool
			_ = n.State(f.id, func(s *roomstate.State) {
				_, qok := s.VisibleKind(f.q)
				_, lok := s.VisibleKind(f.line)
				known = qok && lok
			})
			return known && n.present(f.id) == 1+listeners
		})
	}
	return f
}

func (f *ballotFixture) everyone() []*testService {
	return append([]*testService{f.host}, f.listeners...)
}

// waitCounts waits until every node counts want of the question's upvotes
// and the line's reactions.
func (f *ballotFixture) waitCounts(upvotes int, reactions map[string]int) {
	for _, n := range f.everyone() {
		n.waitUntil(fmt.Sprintf("%d upvotes and reactions %v", upvotes, reactions), func() bool {
			if n.count(f.id, f.q, "") != upvotes {
				return false
			}
			for emoji, want := range reactions {
				if n.count(f.id, f.line, emoji) != want {
					return false
				}
			}
			return true
		})
	}
}

// TestRoomBallots: in a room counted large, listeners' upvotes and
// reactions go to the host as ballots, not on the topic; every node ends
// with the right counts through the host's tallies; a listener that is a
// speaker publishes as before; and a host back from a restart still counts
// the ballots it took (a new one adds to them, not to its last tally).
func TestRoomBallots(t *testing.T) {
	// Over loopback sockets: the host comes back under its old peer ID,
	// which a mocknet does not link again.
	f := newBallotFixture(t, &testNet{}, 6)
	ls := f.listeners
	// Listener 5 is a speaker: it publishes its vote.
	if err := f.host.RoomGrant(t.Context(), f.id, ls[5].self(), room.RoleSpeaker, time.Hour); err != nil {
		t.Fatal(err)
	}
	ls[5].waitUntil("the speaker grant", func() bool {
		var role roomstate.Role
		_ = ls[5].State(f.id, func(s *roomstate.State) { role = s.Role(ls[5].signing().Public(), time.Now()) })
		return role == roomstate.RoleSpeaker
	})
	for i, l := range ls[:4] {
		if err := l.RoomUpvote(t.Context(), f.id, f.q); err != nil {
			t.Fatal(err)
		}
		emoji := "👍"
		if i == 3 {
			emoji = "🎉"
		}
		if err := l.RoomReact(t.Context(), f.id, f.line, emoji); err != nil {
			t.Fatal(err)
		}
	}
	if err := ls[5].RoomUpvote(t.Context(), f.id, f.q); err != nil {
		t.Fatal(err)
	}
	f.waitCounts(5, map[string]int{"👍": 3, "🎉": 1})

	// No listener's vote went on the topic, but the speaker's: no node
	// stores a vote message from the others.
	for _, n := range f.everyone() {
		n.waitUntil("the speaker's vote stored", func() bool { return n.storedVotes(f.id)[ls[5].self()] == 1 })
		votes := n.storedVotes(f.id)
		if want := map[peer.ID]int{ls[5].self(): 1}; !reflect.DeepEqual(votes, want) {
			t.Errorf("%s stores vote messages %v, want only the speaker's", n.self().ShortString(), votes)
		}
	}
	if n := f.host.storedBallots(f.id); n != 8 {
		t.Errorf("the host keeps %d ballots, want 8", n)
	}
	// The census: the room is told its size by the host.
	ls[0].waitUntil("a census of 7", func() bool { return ls[0].census(f.id) == 7 })

	// The host restarts: its ballots come back with it.
	f.host.stop()
	f.host = newTestService(t, f.tn, f.home, ballotRoom)
	if n := f.host.count(f.id, f.q, ""); n != 5 {
		t.Errorf("after a restart the host counts %d upvotes, want 5", n)
	}
	var ballots int
	_ = f.host.State(f.id, func(s *roomstate.State) { ballots = s.Ballots() })
	if ballots != 8 {
		t.Errorf("after a restart the host holds %d ballots, want 8", ballots)
	}
	for _, l := range ls {
		l.connect(f.host)
	}
	f.host.waitUntil("the listeners in the mesh", func() bool { return len(f.host.ps.Peers(Topic(f.id))) == len(ls) })
	if err := ls[4].RoomUpvote(t.Context(), f.id, f.q); err != nil {
		t.Fatal(err)
	}
	f.waitCounts(6, map[string]int{"👍": 3, "🎉": 1})
	if n := f.host.storedBallots(f.id); n != 9 {
		t.Errorf("the host keeps %d ballots, want 9: listener 4's was published", n)
	}
}

// TestRoomBallotFallback: a ballot the host refuses (here: it keeps only
// one) is published instead, and the counts are still right everywhere:
// the host tallies again when a vote it missed reaches it on the topic.
func TestRoomBallotFallback(t *testing.T) {
	f := newBallotFixture(t, newTestNet(t), 3, func(c *Config) { c.MaxBallots = 1 })
	for _, l := range f.listeners {
		if err := l.RoomUpvote(t.Context(), f.id, f.q); err != nil {
			t.Fatal(err)
		}
	}
	f.waitCounts(3, nil)
	if n := f.host.storedBallots(f.id); n != 1 {
		t.Errorf("the host keeps %d ballots, want 1", n)
	}
	f.host.waitUntil("the two votes the host refused, published", func() bool { return len(f.host.storedVotes(f.id)) == 2 })
}

// TestRoomBallotRefused: the host refuses a forged ballot, one of another
// room, of a muted voter, dated too far off, or for no known question; a
// node that is not the host refuses every ballot; none of them is kept or
// counted; and a request that does not decode resets the stream.
func TestRoomBallotRefused(t *testing.T) {
	f := newBallotFixture(t, newTestNet(t), 3)
	voter, muted, other := f.listeners[0], f.listeners[1], f.listeners[2]
	if err := f.host.RoomMute(t.Context(), f.id, muted.self(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	ballot := func(sk keys.PrivateKey, change func(*room.Ballot)) room.Ballot {
		b := room.Ballot{Room: f.id, Target: f.q, Time: time.Now()}
		if change != nil {
			change(&b)
		}
		if err := b.Sign(sk); err != nil {
			t.Fatal(err)
		}
		return b
	}
	forged := ballot(voter.signing(), nil)
	forged.Voter = other.signing().Public()
	for _, tc := range []struct {
		name string
		to   *testService
		b    room.Ballot
		want string
	}{
		{"forged", f.host, forged, "bad signature"},
		{"another room", f.host, ballot(voter.signing(), func(b *room.Ballot) { b.Room = room.ID{1} }), "not in this room"},
		{"muted voter", f.host, ballot(muted.signing(), nil), errBallotMuted.Error()},
		{"dated an hour ago", f.host, ballot(voter.signing(), func(b *room.Ballot) { b.Time = time.Now().Add(-time.Hour) }), errBallotTime.Error()},
		{"dated an hour ahead", f.host, ballot(voter.signing(), func(b *room.Ballot) { b.Time = time.Now().Add(time.Hour) }), errBallotTime.Error()},
		{"unknown question", f.host, ballot(voter.signing(), func(b *room.Ballot) { b.Target = room.MessageID{7} }), errBallotNoTarget.Error()},
		{"upvote of a chat line", f.host, ballot(voter.signing(), func(b *room.Ballot) { b.Target = f.line }), errBallotNoTarget.Error()},
		{"to a listener", other, ballot(voter.signing(), nil), errBallotNotHost.Error()},
	} {
		err := voter.sendBallot(t.Context(), tc.to.self(), tc.b)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// A reaction to a chat line is taken, and its voter's second is held
	// already: taken again, counted once.
	react := ballot(voter.signing(), func(b *room.Ballot) { b.Target, b.Emoji = f.line, "👍" })
	for range 2 {
		if err := voter.sendBallot(t.Context(), f.host.self(), react); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.host.storedBallots(f.id); n != 1 {
		t.Errorf("the host keeps %d ballots, want the one reaction", n)
	}
	if n := f.host.count(f.id, f.q, ""); n != 0 {
		t.Errorf("the host counts %d upvotes from refused ballots", n)
	}
	// A malformed request: the host resets the stream without an answer.
	st, err := voter.net.Host().NewStream(t.Context(), f.host.self(), ProtocolBallot)
	if err != nil {
		t.Fatal(err)
	}
	_ = st.SetDeadline(time.Now().Add(10 * time.Second))
	_, _ = st.Write([]byte{5, 0xff, 0xff, 0xff, 0xff, 0xff})
	_ = st.CloseWrite()
	if b, err := io.ReadAll(st); err == nil || len(b) != 0 {
		t.Errorf("a malformed request was answered: %q, %v", b, err)
	}
	_ = st.Close()
}

// TestRoomBallotBurst: ballots from many voters handed to the host at once
// are all taken, stored and counted. Each used to be a transaction of its
// own, and they conflicted on the room's ballot count until Badger's
// retries ran out, so most of a burst was refused.
func TestRoomBallotBurst(t *testing.T) {
	f := newBallotFixture(t, newTestNet(t), 1)
	const voters = 200
	var wg sync.WaitGroup
	errs := make([]error, voters)
	for i := range voters {
		sk := keys.GeneratePrivateKey()
		b := room.Ballot{Room: f.id, Target: f.q, Time: time.Now()}
		if err := b.Sign(sk); err != nil {
			t.Fatal(err)
		}
		// From a peer of its own, so that no remote peer's rate binds.
		wg.Go(func() { errs[i] = f.host.takeBallot(randomPeer(), b) })
	}
	wg.Wait()
	taken := 0
	for i, err := range errs {
		if err != nil {
			if i < 3 {
				t.Errorf("ballot %d refused: %v", i, err)
			}
			continue
		}
		taken++
	}
	if taken != voters {
		t.Fatalf("%d of %d ballots taken", taken, voters)
	}
	if n := f.host.storedBallots(f.id); n != voters {
		t.Errorf("the host keeps %d ballots, want %d", n, voters)
	}
	if n := f.host.count(f.id, f.q, ""); n != voters {
		t.Errorf("the host counts %d upvotes, want %d", n, voters)
	}
}

// TestRoomMyVotes: each node tells which upvotes and reactions are its own:
// a listener's handed to the host as ballots (kept in its own store, since
// the room knows them only as counts), and the host's published ones; a
// node that did not vote sees none as its own.
func TestRoomMyVotes(t *testing.T) {
	f := newBallotFixture(t, newTestNet(t), 3)
	voter, other := f.listeners[0], f.listeners[1]
	if err := voter.RoomUpvote(t.Context(), f.id, f.q); err != nil {
		t.Fatal(err)
	}
	if err := voter.RoomReact(t.Context(), f.id, f.line, "👍"); err != nil {
		t.Fatal(err)
	}
	if err := f.host.RoomUpvote(t.Context(), f.id, f.q); err != nil {
		t.Fatal(err)
	}
	f.waitCounts(2, map[string]int{"👍": 1})
	if n := f.host.storedBallots(f.id); n != 2 {
		t.Fatalf("the host keeps %d ballots, want the voter's 2 (the votes must go as ballots for this test)", n)
	}
	for _, tc := range []struct {
		name     string
		n        *testService
		upvoted  bool
		reaction []string
	}{
		{"the voter", voter, true, []string{"👍"}},
		{"the host", f.host, true, nil},
		{"a listener who did not vote", other, false, nil},
	} {
		qs, err := tc.n.RoomQuestions(f.id)
		if err != nil {
			t.Fatal(err)
		}
		if len(qs) != 1 || qs[0].Upvoted != tc.upvoted {
			t.Errorf("%s: questions %+v, want the question upvoted by us: %v", tc.name, qs, tc.upvoted)
		}
		chat, err := tc.n.RoomChat(f.id, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(chat) != 1 || !slices.Equal(chat[0].MyReactions, tc.reaction) {
			t.Errorf("%s: chat %+v, want our reactions %v", tc.name, chat, tc.reaction)
		}
	}
}
