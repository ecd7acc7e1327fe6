package roomstate

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/room"
)

// scenario is a realistic room: a host, two moderators, 20 listeners, with
// chat, questions, votes, reactions and moderation, plus the facts the test
// expects of it.
type scenario struct {
	f        *fixture
	msgs     []room.Message
	hiddenQ  room.MessageID // a question a moderator hid
	hiddenC  room.MessageID // a chat line a moderator hid
	lateHide room.MessageID // a question hidden by a moderator whose grant had expired
	answered room.MessageID
	pinned   room.MessageID
	top      room.MessageID // the question with the most votes
	muted    int            // index of the muted listener
}

func newScenario(t testing.TB) *scenario {
	f := newFixture(t, 20)
	sc := &scenario{f: f, muted: 19}
	add := func(ms ...room.Message) { sc.msgs = append(sc.msgs, ms...) }
	add(f.modGrants()...)
	// Listener 0 is a speaker; listener 18 a moderator for ten minutes only.
	add(f.grantMsg(f.host, f.host, f.listeners[0].Public(), room.RoleSpeaker, t0, time.Hour))
	add(f.grantMsg(f.mods[0], f.host, f.listeners[18].Public(), room.RoleModerator, t0, 10*time.Minute))

	var qs []room.MessageID
	for i := range 30 {
		q := f.question(f.listeners[i%20], at(10+i), fmt.Sprintf("question %d?", i))
		qs = append(qs, q.ID())
		add(q)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i, l := range f.listeners {
		for j := range 8 {
			q := qs[rng.IntN(len(qs))]
			add(f.upvote(l, at(50+i+j), q))
		}
		add(f.upvote(l, at(60+i), qs[7])) // everyone likes question 7
		add(f.upvote(l, at(61+i), qs[7])) // twice: counts once
	}
	sc.top = qs[7]
	for i := range 60 {
		c := f.chat(f.listeners[i%20], at(5+i*3), fmt.Sprintf("chat %d", i))
		add(c)
		if i%7 == 0 {
			add(f.reaction(f.listeners[(i+3)%20], at(6+i*3), c.ID(), "👍"))
			add(f.reaction(f.listeners[(i+4)%20], at(6+i*3), c.ID(), "👍"))
			add(f.reaction(f.listeners[(i+4)%20], at(7+i*3), c.ID(), "🎉"))
		}
		if i == 10 {
			sc.hiddenC = c.ID()
			add(f.hide(f.mods[1], at(200), c.ID()))
		}
		if i == 11 {
			add(f.hide(f.listeners[2], at(200), c.ID())) // a listener's hide: no effect
		}
	}
	sc.answered, sc.hiddenQ, sc.lateHide = qs[1], qs[4], qs[9]
	add(f.answered(f.mods[0], at(300), qs[1]))
	add(f.answered(f.listeners[5], at(300), qs[3])) // no effect
	add(f.hide(f.mods[1], at(300), qs[4]))
	add(f.hide(f.listeners[18], at(60), qs[8]))    // within its grant: counts
	add(f.hide(f.listeners[18], at(20*60), qs[9])) // after it expired: no effect
	add(f.pin(f.mods[1], at(400), qs[2]))
	add(f.pin(f.host, at(500), qs[5]))         // the latest pin wins
	add(f.pin(f.listeners[3], at(600), qs[6])) // no effect
	sc.pinned = qs[5]
	// Listener 19 is muted from 130 s for an hour: its later lines, questions
	// and votes drop out; its earlier ones stay.
	add(f.mute(f.mods[0], at(130), f.listeners[19].Public(), at(130+3600)))
	add(f.chat(f.listeners[19], at(140), "muted line"))
	add(f.question(f.listeners[19], at(141), "muted question?"))
	add(f.mute(f.listeners[4], at(130), f.listeners[5].Public(), at(130+3600))) // no effect
	for i, l := range f.listeners {
		add(f.presence(l, at(i), 120*time.Second, i == 17))
	}
	add(f.presence(f.host, at(1), 300*time.Second, false))
	return sc
}

// snapshot is every query's answer, to compare states.
type snapshot struct {
	Chat      []Chat
	Questions []Question
	Pinned    room.MessageID
	Listeners int
	Speakers  int
	Muted     bool
}

func (sc *scenario) snapshot(s *State) snapshot {
	l, sp := s.Presence(at(100))
	return snapshot{
		Chat:      s.Chat(0),
		Questions: s.Questions(),
		Pinned:    s.Pinned(),
		Listeners: l,
		Speakers:  len(sp),
		Muted:     s.Muted(sc.f.listeners[sc.muted].Public(), at(150)),
	}
}

func TestScenarioFacts(t *testing.T) {
	sc := newScenario(t)
	s := sc.f.state()
	applyAll(t, s, sc.msgs)
	checkScenarioQuestions(t, sc, s)
}

// checkScenarioQuestions checks the scenario's Q&A facts.
func checkScenarioQuestions(t *testing.T, sc *scenario, s *State) {
	t.Helper()
	qs := s.Questions()
	if len(qs) == 0 || qs[0].ID != sc.top || qs[0].Upvotes < 20 {
		t.Fatalf("top question %+v, want %s with at least 20 votes", qs[0], sc.top)
	}
	byID := make(map[room.MessageID]Question)
	for i, q := range qs {
		byID[q.ID] = q
		if i > 0 && qs[i-1].Upvotes < q.Upvotes {
			t.Fatalf("questions not ordered by votes at %d", i)
		}
		if q.Upvotes > 20 {
			t.Fatalf("question %d has %d votes from 20 listeners", i, q.Upvotes)
		}
	}
	if _, ok := byID[sc.hiddenQ]; ok {
		t.Error("hidden question listed")
	}
	if _, ok := byID[sc.lateHide]; !ok {
		t.Error("question hidden by an expired moderator is not listed")
	}
	if !byID[sc.answered].Answered {
		t.Error("answered question not marked")
	}
	n := 0
	for _, q := range qs {
		if q.Answered {
			n++
		}
		if q.Pinned != (q.ID == sc.pinned) {
			t.Errorf("question %s pinned=%v", q.Text, q.Pinned)
		}
		if q.Text == "muted question?" {
			t.Error("muted peer's question listed")
		}
	}
	if n != 1 {
		t.Errorf("%d answered, want 1 (a listener's mark must not count)", n)
	}
	if len(qs) != 30-2 { // 30 questions, two hidden, the muted one left out
		t.Errorf("%d questions listed, want 28", len(qs))
	}
	checkScenarioChat(t, sc, s)
}

// checkScenarioChat checks the scenario's chat and presence facts.
func checkScenarioChat(t *testing.T, sc *scenario, s *State) {
	t.Helper()
	chat := s.Chat(0)
	// 60 lines and the muted line; chat 10 hidden; listener 19's chat 59
	// (at 182 s) muted, its chat 39 (at 122 s) sent before the mute.
	if len(chat) != 60-2 {
		t.Errorf("%d chat lines, want 58", len(chat))
	}
	texts := make(map[string]bool)
	for _, c := range chat {
		texts[c.Text] = true
	}
	if !texts["chat 39"] || texts["chat 59"] {
		t.Error("the mute does not start at its timestamp")
	}
	for _, c := range chat {
		if c.ID == sc.hiddenC || c.Text == "muted line" {
			t.Errorf("chat %q should not be visible", c.Text)
		}
		if c.Text == "chat 0" && !reflect.DeepEqual(c.Reactions, []Reaction{{"👍", 2}, {"🎉", 1}}) {
			t.Errorf("chat 0 reactions %v", c.Reactions)
		}
	}
	if last := s.Chat(5); len(last) != 5 || last[4].ID != chat[len(chat)-1].ID || last[0].ID != chat[len(chat)-5].ID {
		t.Errorf("Chat(5) is not the last five lines")
	}
	l, sp := s.Presence(at(100))
	if l != 18 || len(sp) != 2 { // 20 listeners less one leaving, less the speaker; host and speaker
		t.Errorf("presence %d listeners, %d speakers; want 18, 2", l, len(sp))
	}
	if l, sp := s.Presence(at(1000)); l != 0 || len(sp) != 0 {
		t.Errorf("presence after every TTL: %d listeners, %d speakers", l, len(sp))
	}
}

// TestOrderIndependence applies the scenario's messages in random orders,
// with random duplicates, and wants every query to answer the same.
func TestOrderIndependence(t *testing.T) {
	sc := newScenario(t)
	base := sc.f.state()
	applyAll(t, base, sc.msgs)
	want := sc.snapshot(base)
	rng := rand.New(rand.NewPCG(3, 4))
	runs := 50
	if testing.Short() {
		runs = 5
	}
	for run := range runs {
		ms := append([]room.Message(nil), sc.msgs...)
		for range rng.IntN(len(ms)) {
			ms = append(ms, ms[rng.IntN(len(ms))])
		}
		rng.Shuffle(len(ms), func(i, j int) { ms[i], ms[j] = ms[j], ms[i] })
		s := sc.f.state()
		applyAll(t, s, ms)
		if s.Len() != len(sc.msgs) {
			t.Fatalf("run %d: %d messages applied, want %d", run, s.Len(), len(sc.msgs))
		}
		if got := sc.snapshot(s); !reflect.DeepEqual(got, want) {
			t.Fatalf("run %d: state differs from in-order application\ngot  %+v\nwant %+v", run, got, want)
		}
	}
}

// TestLateJoiner applies the moderation first and the history it governs
// after, as a late joiner pulling history might, and wants the same view.
func TestLateJoiner(t *testing.T) {
	sc := newScenario(t)
	base := sc.f.state()
	applyAll(t, base, sc.msgs)
	want := sc.snapshot(base)

	var moderation, rest []room.Message
	for _, m := range sc.msgs {
		switch m.Kind {
		case room.KindRoleGrant:
			rest = append(rest, m) // grants last of all, to be harder
		case room.KindHide, room.KindMute, room.KindAnswered, room.KindPin, room.KindUpvote:
			moderation = append(moderation, m)
		default:
			rest = append([]room.Message{m}, rest...) // newest first
		}
	}
	s := sc.f.state()
	applyAll(t, s, moderation)
	if len(s.Chat(0)) != 0 || len(s.Questions()) != 0 {
		t.Fatal("moderation alone shows chat or questions")
	}
	applyAll(t, s, rest)
	if got := sc.snapshot(s); !reflect.DeepEqual(got, want) {
		t.Fatalf("late joiner's state differs\ngot  %+v\nwant %+v", got, want)
	}
}
