package roomstate

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

func TestMuteSpan(t *testing.T) {
	f := newFixture(t, 2)
	s := f.state()
	p := f.listeners[0].Public()
	applyAll(t, s, []room.Message{
		f.mute(f.host, at(100), p, at(200)),
		f.mute(f.listeners[1], at(300), p, at(400)), // a listener's mute: no effect
		f.mute(f.host, at(100), f.host.Public(), at(200)),
	})
	tests := []struct {
		at   time.Time
		want bool
	}{
		{at(99), false},
		{at(100), true},
		{at(199), true},
		{at(200).Add(-time.Millisecond), true},
		{at(200), false},
		{at(350), false},
	}
	for _, tt := range tests {
		if got := s.Muted(p, tt.at); got != tt.want {
			t.Errorf("Muted at %s = %v, want %v", tt.at.Sub(t0), got, tt.want)
		}
	}
	if s.Muted(f.host.Public(), at(150)) {
		t.Error("the host is muted")
	}
}

func TestPin(t *testing.T) {
	f := newFixture(t, 1)
	a, b := room.MessageID{1}, room.MessageID{2}
	tests := []struct {
		name string
		msgs []room.Message
		want room.MessageID
	}{
		{"none", nil, room.MessageID{}},
		{"one", []room.Message{f.pin(f.host, at(1), a)}, a},
		{"latest wins", []room.Message{f.pin(f.host, at(2), b), f.pin(f.host, at(1), a)}, b},
		{"unpin", []room.Message{f.pin(f.host, at(1), a), f.pin(f.host, at(2), room.MessageID{})}, room.MessageID{}},
		{"listener's later pin ignored", []room.Message{f.pin(f.host, at(1), a), f.pin(f.listeners[0], at(2), b)}, a},
		{"grant arriving after the pin", []room.Message{
			f.pin(f.mods[0], at(1), a),
			f.grantMsg(f.host, f.host, f.mods[0].Public(), room.RoleModerator, t0, time.Hour),
		}, a},
	}
	for _, tt := range tests {
		s := f.state()
		applyAll(t, s, tt.msgs)
		if got := s.Pinned(); got != tt.want {
			t.Errorf("%s: Pinned = %s, want %s", tt.name, got, tt.want)
		}
	}
}

func TestPresence(t *testing.T) {
	f := newFixture(t, 3)
	s := f.state()
	applyAll(t, s, []room.Message{
		f.presence(f.listeners[0], at(0), time.Minute, false),
		f.presence(f.listeners[1], at(0), time.Minute, false),
		f.presence(f.listeners[1], at(10), time.Minute, true), // left
		f.presence(f.listeners[2], at(20), time.Minute, true),
		f.presence(f.listeners[2], at(10), time.Minute, false), // older: the leave stands
		f.presence(f.host, at(0), 10*time.Minute, false),
	})
	tests := []struct {
		now       time.Time
		listeners int
		speakers  int
	}{
		{at(30), 1, 1},
		{at(60), 0, 1}, // listener 0's TTL has run out
		{at(600), 0, 0},
	}
	for _, tt := range tests {
		l, sp := s.Presence(tt.now)
		if l != tt.listeners || len(sp) != tt.speakers {
			t.Errorf("Presence at %s = %d, %d; want %d, %d", tt.now.Sub(t0), l, len(sp), tt.listeners, tt.speakers)
		}
	}
}

// TestMembers: who is present, with the name of their latest presence and
// their role now, the most powerful first; a speaker grant and a moderator
// grant show as such, and a peer who left or whose presence ran out is not
// listed.
func TestMembers(t *testing.T) {
	f := newFixture(t, 3)
	s := f.state()
	named := func(k keys.PrivateKey, ts time.Time, name string) room.Message {
		return f.msg(k, room.KindPresence, ts, must(t)(EncodePresence(PresenceBody{TTL: time.Minute, Name: name})))
	}
	applyAll(t, s, f.modGrants())
	applyAll(t, s, []room.Message{
		f.grantMsg(f.host, f.host, f.listeners[0].Public(), room.RoleSpeaker, t0, time.Hour),
		named(f.host, at(0), "Hostess"),
		named(f.mods[0], at(0), "Mo"),
		named(f.listeners[0], at(0), "old name"),
		named(f.listeners[0], at(5), "Speaks"),
		named(f.listeners[1], at(0), ""),
		named(f.listeners[2], at(0), "gone"),
		f.presence(f.listeners[2], at(5), time.Minute, true),
	})
	got := s.Members(at(10))
	want := []Member{
		{Key: f.host.Public(), Name: "Hostess", Role: RoleHost},
		{Key: f.mods[0].Public(), Name: "Mo", Role: RoleModerator},
		{Key: f.listeners[0].Public(), Name: "Speaks", Role: RoleSpeaker},
		{Key: f.listeners[1].Public(), Name: "", Role: RoleListener},
	}
	if !slices.Equal(got, want) {
		t.Errorf("Members = %+v\nwant %+v", got, want)
	}
	if got := s.Members(at(65)); len(got) != 0 {
		t.Errorf("Members after every TTL = %+v, want none", got)
	}
}

// TestEachName: the names senders give themselves in visible lines,
// questions and latest presences; a hidden line's name does not count.
func TestEachName(t *testing.T) {
	f := newFixture(t, 3)
	s := f.state()
	applyAll(t, s, f.modGrants())
	hidden := f.msg(f.listeners[2], room.KindChat, at(2), must(t)(EncodeChat(ChatBody{Text: "spam", Name: "Spammer"})))
	applyAll(t, s, []room.Message{
		f.msg(f.listeners[0], room.KindChat, at(0), must(t)(EncodeChat(ChatBody{Text: "hi", Name: "Ann"}))),
		f.msg(f.listeners[1], room.KindQuestion, at(1), must(t)(EncodeQuestion(QuestionBody{Text: "q?", Name: "Ben"}))),
		f.msg(f.host, room.KindPresence, at(1), must(t)(EncodePresence(PresenceBody{TTL: time.Minute, Name: "Host"}))),
		f.chat(f.listeners[1], at(3), "no name"),
		hidden,
		f.hide(f.mods[0], at(4), hidden.ID()),
	})
	got := map[string]keys.PublicKey{}
	s.EachName(func(k keys.PublicKey, name string) { got[name] = k })
	want := map[string]keys.PublicKey{"Ann": f.listeners[0].Public(), "Ben": f.listeners[1].Public(), "Host": f.host.Public()}
	if !maps.Equal(got, want) {
		t.Errorf("EachName gave %v, want %v", got, want)
	}
}

// TestMutedVotes: a vote sent while muted does not count, one sent before
// does, and a peer with both counts once.
func TestMutedVotes(t *testing.T) {
	f := newFixture(t, 3)
	s := f.state()
	q := f.question(f.listeners[0], at(1), "q?")
	a, b := f.listeners[1], f.listeners[2]
	applyAll(t, s, []room.Message{
		f.upvote(a, at(150), q.ID()),            // muted then
		f.upvote(b, at(150), q.ID()),            // muted then
		f.upvote(b, at(50), q.ID()),             // not yet muted
		f.upvote(f.listeners[0], at(2), q.ID()), // the asker's own vote counts
		f.reaction(a, at(150), q.ID(), "👎"),
		f.mute(f.host, at(100), a.Public(), at(200)),
		f.mute(f.host, at(100), b.Public(), at(200)),
		q,
	})
	qs := s.Questions()
	if len(qs) != 1 || qs[0].Upvotes != 2 || len(qs[0].Reactions) != 0 {
		t.Fatalf("Questions = %+v, want one question with 2 votes, no reactions", qs)
	}
}

// TestTally: the host's or a moderator's tally raises a question's upvotes
// and a message's reactions to its counts (the highest counting count,
// whatever the order), never lowers what direct votes count, and counts
// for nothing from a listener; its census stands in for the presences not
// seen while it is fresh.
func TestTally(t *testing.T) {
	f := newFixture(t, 3)
	tally := func(from keys.PrivateKey, ts time.Time, tb TallyBody) room.Message {
		return f.msg(from, room.KindTally, ts, must(t)(EncodeTally(tb)))
	}
	q := f.question(f.listeners[0], at(0), "why?")
	line := f.chat(f.listeners[0], at(0), "hi")
	msgs := append(f.modGrants(),
		q, line,
		f.upvote(f.listeners[1], at(1), q.ID()),
		f.upvote(f.listeners[2], at(1), q.ID()),
		tally(f.host, at(10), TallyBody{Present: 5_000, Counts: []TallyCount{{Target: q.ID(), Count: 900}, {Target: line.ID(), Emoji: "🎉", Count: 30}}}),
		tally(f.mods[0], at(5), TallyBody{Counts: []TallyCount{{Target: q.ID(), Count: 400}}}), // older, lower: the 900 stands
		tally(f.listeners[1], at(20), TallyBody{Present: 99_999, Counts: []TallyCount{{Target: q.ID(), Count: 99_999}}}),
		f.presence(f.host, at(10), time.Minute, false),
	)
	for _, order := range [][]room.Message{msgs, reversed(msgs)} {
		s := f.state()
		applyAll(t, s, order)
		qs := s.Questions()
		if len(qs) != 1 || qs[0].Upvotes != 900 {
			t.Errorf("questions %+v, want the tallied 900 upvotes", qs)
		}
		if rs := s.Chat(0)[0].Reactions; len(rs) != 1 || rs[0] != (Reaction{Emoji: "🎉", Count: 30}) {
			t.Errorf("reactions %+v, want the tallied 30", rs)
		}
		if l, sp := s.Presence(at(30)); l != 5_000-1 || len(sp) != 1 {
			t.Errorf("Presence while the census is fresh = %d, %d; want 4999, 1", l, len(sp))
		}
		if l, _ := s.Presence(at(10).Add(CensusFresh + time.Second)); l != 0 {
			t.Errorf("Presence once the census is stale = %d, want 0", l)
		}
	}
	// The listener's own tally is not allowed on the wire either.
	s := f.state()
	applyAll(t, s, f.modGrants())
	if err := s.Allowed(tally(f.listeners[0], at(1), TallyBody{Present: 1}), at(1)); !errors.Is(err, ErrNotAllowed) {
		t.Errorf("a listener's tally: %v, want ErrNotAllowed", err)
	}
}

func reversed[T any](s []T) []T {
	out := slices.Clone(s)
	slices.Reverse(out)
	return out
}
