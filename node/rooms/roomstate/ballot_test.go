package roomstate

import (
	"errors"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

// ballot signs voter's ballot on target (emoji empty: an upvote) at ts.
func (f *fixture) ballot(voter keys.PrivateKey, ts time.Time, target room.MessageID, emoji string) room.Ballot {
	f.t.Helper()
	b := room.Ballot{Room: f.desc.Room, Target: target, Emoji: emoji, Time: ts}
	if err := b.Sign(voter); err != nil {
		f.t.Fatal(err)
	}
	return b
}

// entry is a message or a ballot, for tests that apply both in any order.
type entry struct {
	m room.Message
	b *room.Ballot
}

func applyEntries(t testing.TB, s *State, es []entry) {
	t.Helper()
	for _, e := range es {
		var err error
		if e.b != nil {
			err = s.ApplyBallot(*e.b)
		} else {
			err = s.Apply(e.m)
		}
		if err != nil {
			t.Fatalf("apply: %v", err)
		}
	}
}

// TestBallots: a ballot counts as its voter's upvote or reaction would,
// once per voter whether it also sent the vote as a message, not while
// muted at the ballot's time; tallies raise the count above what the
// ballots give, never lower it; and any order of the same messages,
// ballots and tallies, duplicates included, gives the same answers.
func TestBallots(t *testing.T) {
	f := newFixture(t, 6)
	l := f.listeners
	q := f.question(l[0], at(0), "why?")
	line := f.chat(l[1], at(0), "hi")
	tally := func(from keys.PrivateKey, ts time.Time, tb TallyBody) room.Message {
		return f.msg(from, room.KindTally, ts, must(t)(EncodeTally(tb)))
	}
	msgs := []room.Message{q, line,
		f.upvote(l[1], at(2), q.ID()), // a message and a ballot from l[1]: one vote
		f.reaction(l[2], at(2), line.ID(), "👍"),
		f.mute(f.host, at(100), l[5].Public(), at(200)),
		tally(f.host, at(3), TallyBody{Counts: []TallyCount{{Target: q.ID(), Count: 2}}}), // lower than the ballots: no effect
		tally(f.host, at(4), TallyBody{Counts: []TallyCount{{Target: line.ID(), Emoji: "🎉", Count: 9}}}),
	}
	ballots := []room.Ballot{
		f.ballot(l[1], at(1), q.ID(), ""),
		f.ballot(l[2], at(1), q.ID(), ""),
		f.ballot(l[3], at(1), q.ID(), ""),
		f.ballot(l[3], at(5), q.ID(), ""), // again, later: one vote
		f.ballot(l[4], at(1), q.ID(), ""),
		f.ballot(l[5], at(150), q.ID(), ""),     // muted at its time: no vote
		f.ballot(l[5], at(150), line.ID(), "👍"), // likewise
		f.ballot(l[2], at(3), line.ID(), "👍"),   // with its message: one reaction
		f.ballot(l[3], at(3), line.ID(), "👍"),
		f.ballot(l[4], at(3), line.ID(), "🎉"),        // below the tally's 9
		f.ballot(l[4], at(3), line.ID(), "new"),      // an emoji no message used
		f.ballot(l[0], at(3), room.MessageID{9}, ""), // a question not (yet) known
	}
	var es []entry
	for _, m := range msgs {
		es = append(es, entry{m: m})
	}
	for i := range ballots {
		es = append(es, entry{b: &ballots[i]})
	}
	check := func(s *State, how string) {
		t.Helper()
		qs := s.Questions()
		if len(qs) != 1 || qs[0].Upvotes != 4 {
			t.Errorf("%s: questions %+v, want one with 4 upvotes", how, qs)
		}
		want := []Reaction{{"🎉", 9}, {"👍", 2}, {"new", 1}}
		if got := s.Chat(0)[0].Reactions; !reflect.DeepEqual(got, want) {
			t.Errorf("%s: reactions %+v, want %+v", how, got, want)
		}
		if n := s.Count(q.ID(), ""); n != 4 {
			t.Errorf("%s: Count(question) = %d, want 4", how, n)
		}
		if n := s.Count(line.ID(), "🎉"); n != 9 {
			t.Errorf("%s: Count(🎉) = %d, want the tallied 9", how, n)
		}
		if n := s.Count(room.MessageID{9}, ""); n != 1 {
			t.Errorf("%s: Count(an unknown question) = %d, want 1", how, n)
		}
		if s.Ballots() != len(ballots) || s.Len() != len(msgs) {
			t.Errorf("%s: %d ballots, %d messages; want %d, %d", how, s.Ballots(), s.Len(), len(ballots), len(msgs))
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 20 {
		order := append([]entry(nil), es...)
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		if i%2 == 1 {
			order = append(order, order[:len(order)/2]...) // duplicates
		}
		s := f.state()
		applyEntries(t, s, order)
		check(s, "shuffled")
	}
	// The voter's unmuted vote still counts: l[5]'s ballot before the mute.
	s := f.state()
	applyEntries(t, s, es)
	if err := s.ApplyBallot(f.ballot(l[5], at(50), q.ID(), "")); err != nil {
		t.Fatal(err)
	}
	if n := s.Count(q.ID(), ""); n != 5 {
		t.Errorf("with a ballot before the mute: %d upvotes, want 5", n)
	}
}

// TestApplyBallotRejects: a ballot of another room, of a zero target or
// with an emoji no reaction may carry is not recorded.
func TestApplyBallotRejects(t *testing.T) {
	f := newFixture(t, 1)
	other := newFixture(t, 0)
	v := f.listeners[0]
	forOther := other.ballot(v, at(1), someID, "")
	zero := room.Ballot{Room: f.desc.Room, Voter: v.Public(), Time: at(1)}
	long := room.Ballot{Room: f.desc.Room, Target: someID, Emoji: strings.Repeat("x", MaxEmojiSize+1), Voter: v.Public(), Time: at(1)}
	for name, tc := range map[string]struct {
		b    room.Ballot
		want error
	}{
		"another room": {forOther, ErrWrongRoom},
		"zero target":  {zero, ErrBadBody},
		"long emoji":   {long, ErrBadBody},
	} {
		s := f.state()
		if err := s.ApplyBallot(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
		if s.Ballots() != 0 || s.records() != 0 {
			t.Errorf("%s: recorded", name)
		}
	}
}

// TestBallotBounds: ballots are bounded in count and bytes apart from
// messages: a flood of ballots forgets the ballots applied first, never a
// message, and a bounded state answers as one given only the ballots
// applied last.
func TestBallotBounds(t *testing.T) {
	f := newFixture(t, 0)
	q := f.question(f.host, at(0), "q?")
	var ballots []room.Ballot
	for i := range 300 {
		emoji := ""
		if i%3 == 0 {
			emoji = "👍"
		}
		ballots = append(ballots, f.ballot(keys.GeneratePrivateKey(), at(1+i), q.ID(), emoji))
	}
	for _, tc := range []struct {
		name         string
		count, bytes int
		want         int
	}{
		{"the count binds", 50, DefaultMaxBallotBytes, 50},
		{"the bytes bind", 1000, 40 * (ballotOverhead + 4), 40},
		{"no bound reached", 1000, DefaultMaxBallotBytes, 300},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := f.state()
			s.SetLimits(1, DefaultMaxBytes) // the question alone
			s.SetBallotLimits(tc.count, tc.bytes)
			applyAll(t, s, []room.Message{q})
			for _, b := range ballots {
				if err := s.ApplyBallot(b); err != nil {
					t.Fatal(err)
				}
			}
			if s.Len() != 1 || len(s.Questions()) != 1 {
				t.Fatalf("ballots pushed the question out: %d messages", s.Len())
			}
			if s.Ballots() != tc.want || s.records() != 1+tc.want {
				t.Errorf("holds %d ballots, %d records; want %d, %d", s.Ballots(), s.records(), tc.want, 1+tc.want)
			}
			fresh := f.state()
			applyAll(t, fresh, []room.Message{q})
			for _, b := range ballots[len(ballots)-tc.want:] {
				if err := fresh.ApplyBallot(b); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := s.Questions(), fresh.Questions(); !reflect.DeepEqual(got, want) {
				t.Errorf("bounded state answers %+v, want %+v", got, want)
			}
			// Lowering the bound later forgets the same way.
			s.SetBallotLimits(10, DefaultMaxBallotBytes)
			if s.Ballots() != min(10, tc.want) {
				t.Errorf("after lowering the bound: %d ballots", s.Ballots())
			}
		})
	}
}

// TestVisibleKindAndPresentSeen: what a host checks a ballot's target
// against, and counts for its census (its own censuses left out).
func TestVisibleKindAndPresentSeen(t *testing.T) {
	f := newFixture(t, 3)
	q := f.question(f.listeners[0], at(0), "q?")
	line := f.chat(f.listeners[1], at(0), "line")
	hidden := f.chat(f.listeners[1], at(1), "hidden")
	s := f.state()
	applyAll(t, s, []room.Message{q, line, hidden, f.hide(f.host, at(2), hidden.ID()),
		f.presence(f.host, at(0), time.Minute, false),
		f.presence(f.listeners[0], at(0), time.Minute, false),
		f.presence(f.listeners[1], at(0), time.Minute, true),
		f.msg(f.host, room.KindTally, at(1), must(t)(EncodeTally(TallyBody{Present: 500}))),
	})
	for _, tc := range []struct {
		id   room.MessageID
		kind room.Kind
		ok   bool
	}{
		{q.ID(), room.KindQuestion, true},
		{line.ID(), room.KindChat, true},
		{hidden.ID(), 0, false},
		{someID, 0, false},
	} {
		if k, ok := s.VisibleKind(tc.id); k != tc.kind || ok != tc.ok {
			t.Errorf("VisibleKind(%s) = %s, %v; want %s, %v", tc.id, k, ok, tc.kind, tc.ok)
		}
	}
	if n := s.PresentSeen(at(10)); n != 2 {
		t.Errorf("PresentSeen = %d, want 2 (the census left out)", n)
	}
	if l, sp := s.Presence(at(10)); l+len(sp) != 500 {
		t.Errorf("Presence = %d + %d, want the census's 500", l, len(sp))
	}
}
