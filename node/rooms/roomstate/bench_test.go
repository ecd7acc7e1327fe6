package roomstate

import (
	"fmt"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

// BenchmarkApplyQuestions applies 1,000 questions and 10,000 upvotes (from
// 500 listeners) to a fresh state and lists the questions, per iteration.
// Signing is done once, outside the loop.
func BenchmarkApplyQuestions(b *testing.B) {
	f := newFixture(b, 500)
	var msgs []room.Message
	var qs []room.MessageID
	for i := range 1000 {
		q := f.question(f.listeners[i%len(f.listeners)], at(i), fmt.Sprintf("question %d?", i))
		qs = append(qs, q.ID())
		msgs = append(msgs, q)
	}
	for i := range 10000 {
		msgs = append(msgs, f.upvote(f.listeners[i%len(f.listeners)], at(1000+i), qs[(i*7919)%len(qs)]))
	}
	// A little moderation, so the queries check it.
	msgs = append(msgs, f.modGrants()...)
	msgs = append(msgs, f.mute(f.mods[0], at(5000), f.listeners[1].Public(), at(6000)))
	msgs = append(msgs, f.hide(f.mods[1], at(5000), qs[3]), f.answered(f.host, at(5000), qs[4]))

	b.ReportAllocs()
	for b.Loop() {
		s := f.state()
		for _, m := range msgs {
			if err := s.Apply(m); err != nil {
				b.Fatal(err)
			}
		}
		if len(s.Questions()) != 999 {
			b.Fatal("wrong question count")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(msgs)), "ns/msg")
}

// BenchmarkQuestions lists the questions of the state above, as a UI
// refreshing its queue would.
func BenchmarkQuestions(b *testing.B) {
	f := newFixture(b, 500)
	s := f.state()
	var qs []room.MessageID
	for i := range 1000 {
		q := f.question(f.listeners[i%len(f.listeners)], at(i), fmt.Sprintf("question %d?", i))
		qs = append(qs, q.ID())
		applyAll(b, s, []room.Message{q})
	}
	for i := range 10000 {
		applyAll(b, s, []room.Message{f.upvote(f.listeners[i%len(f.listeners)], at(1000+i), qs[(i*7919)%len(qs)])})
	}
	b.ReportAllocs()
	for b.Loop() {
		s.Questions()
	}
}

// BenchmarkAllowedChat is the validator's per-message cost for a chat line.
func BenchmarkAllowedChat(b *testing.B) {
	f := newFixture(b, 1)
	s := f.state()
	applyAll(b, s, []room.Message{f.mute(f.host, t0, keys.GeneratePrivateKey().Public(), at(60))})
	m := f.chat(f.listeners[0], t0, "hello, room")
	b.ReportAllocs()
	for b.Loop() {
		if err := s.Allowed(m, t0.Add(time.Second)); err != nil {
			b.Fatal(err)
		}
	}
}
