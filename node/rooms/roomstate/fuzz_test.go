package roomstate

import (
	"reflect"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

// Each fuzz target asserts no panic and that an accepted body re-encodes to
// a body that decodes to the same value.

func FuzzDecodeChat(f *testing.F) {
	f.Add(must(f)(EncodeChat(ChatBody{Text: "hello", ReplyTo: room.MessageID{}})))
	f.Add(must(f)(EncodeChat(ChatBody{Text: "re", ReplyTo: someID})))
	f.Add(must(f)(EncodeChat(ChatBody{Text: "hi", Name: "Zoë 🙂"})))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, body []byte) {
		c, err := DecodeChat(body)
		if err != nil {
			return
		}
		again, err := DecodeChat(must(t)(EncodeChat(c)))
		if err != nil || again != c {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", c, again, err)
		}
	})
}

func FuzzDecodeQuestion(f *testing.F) {
	f.Add(must(f)(EncodeQuestion(QuestionBody{Text: "why?"})))
	f.Add(must(f)(EncodeQuestion(QuestionBody{Text: "why?", Name: "bob"})))
	f.Fuzz(func(t *testing.T, body []byte) {
		q, err := DecodeQuestion(body)
		if err != nil {
			return
		}
		again, err := DecodeQuestion(must(t)(EncodeQuestion(q)))
		if err != nil || again != q {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", q, again, err)
		}
	})
}

// FuzzDecodeTarget covers the four decoders of a bare target: upvote,
// answered, pin and hide.
func FuzzDecodeTarget(f *testing.F) {
	f.Add(must(f)(EncodeUpvote(someID)))
	f.Add(must(f)(EncodePin(room.MessageID{})))
	decoders := []struct {
		dec func([]byte) (room.MessageID, error)
		enc func(room.MessageID) ([]byte, error)
	}{
		{DecodeUpvote, EncodeUpvote},
		{DecodeAnswered, EncodeAnswered},
		{DecodePin, EncodePin},
		{DecodeHide, EncodeHide},
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, d := range decoders {
			id, err := d.dec(body)
			if err != nil {
				continue
			}
			again, err := d.dec(must(t)(d.enc(id)))
			if err != nil || again != id {
				t.Fatalf("re-encoded %s decodes to %s, %v", id, again, err)
			}
		}
	})
}

func FuzzDecodeReaction(f *testing.F) {
	f.Add(must(f)(EncodeReaction(someID, "👍")))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := DecodeReaction(body)
		if err != nil {
			return
		}
		again, err := DecodeReaction(must(t)(EncodeReaction(r.Target, r.Emoji)))
		if err != nil || again != r {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", r, again, err)
		}
	})
}

func FuzzDecodePresence(f *testing.F) {
	f.Add(must(f)(EncodePresence(PresenceBody{TTL: time.Minute, Leaving: false})))
	f.Add(must(f)(EncodePresence(PresenceBody{TTL: MaxPresenceTTL, Leaving: true})))
	f.Add(must(f)(EncodePresence(PresenceBody{TTL: time.Minute, Name: "carol"})))
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := DecodePresence(body)
		if err != nil {
			return
		}
		again, err := DecodePresence(must(t)(EncodePresence(p)))
		if err != nil || again != p {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", p, again, err)
		}
	})
}

func FuzzDecodeMute(f *testing.F) {
	f.Add(must(f)(EncodeMute(keys.GeneratePrivateKey().Public(), t0)))
	f.Fuzz(func(t *testing.T, body []byte) {
		m, err := DecodeMute(body)
		if err != nil {
			return
		}
		again, err := DecodeMute(must(t)(EncodeMute(m.Peer, m.Until)))
		if err != nil || again != m {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", m, again, err)
		}
	})
}

func FuzzDecodeRoleGrant(f *testing.F) {
	fx := newFixture(f, 1)
	f.Add(fx.grantMsg(fx.host, fx.host, fx.listeners[0].Public(), room.RoleSpeaker, t0, time.Hour).Body)
	f.Fuzz(func(t *testing.T, body []byte) {
		g, err := DecodeRoleGrant(body)
		if err != nil {
			return
		}
		again, err := DecodeRoleGrant(must(t)(EncodeRoleGrant(g)))
		if err != nil || again != g {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", g, again, err)
		}
	})
}

// FuzzMessage gives Allowed and Apply messages of any kind with fuzzed bodies
// and timestamps, from the host, a moderator or a listener, on a state that
// already holds a little of everything, then runs every query. Signatures do
// not matter here: the caller checks them before either call.
func FuzzMessage(f *testing.F) {
	fx := newFixture(f, 3)
	sc := []room.Message{fx.question(fx.listeners[0], at(1), "q?")}
	q := sc[0].ID()
	sc = append(sc, fx.modGrants()...)
	sc = append(sc,
		fx.chat(fx.listeners[1], at(2), "hi"),
		fx.upvote(fx.listeners[2], at(3), q),
		fx.mute(fx.mods[0], at(4), fx.listeners[2].Public(), at(600)),
		fx.hide(fx.mods[1], at(5), q),
		fx.pin(fx.host, at(6), q),
		fx.presence(fx.listeners[1], at(7), time.Minute, false),
	)
	for _, m := range sc {
		f.Add(uint8(m.Kind), uint8(0), int64(10), m.Body)
	}
	senders := []keys.PrivateKey{fx.host, fx.mods[0], fx.listeners[0]}
	f.Fuzz(func(t *testing.T, kind, sender uint8, secs int64, body []byte) {
		s := fx.state()
		for _, m := range sc {
			if err := s.Apply(m); err != nil {
				t.Fatal(err)
			}
		}
		m := room.Message{
			Room:      fx.desc.Room,
			Kind:      room.Kind(kind),
			Sender:    senders[int(sender)%len(senders)].Public(),
			Seq:       1,
			Timestamp: t0.Add(time.Duration(secs) * time.Millisecond),
			Body:      body,
		}
		allowedErr := s.Allowed(m, at(10))
		applyErr := s.Apply(m)
		if allowedErr == nil && applyErr != nil {
			t.Fatalf("allowed but not applied: %v", applyErr)
		}
		s.Chat(0)
		s.Questions()
		s.Presence(at(10))
		s.Role(m.Sender, m.Timestamp)
		s.Muted(m.Sender, m.Timestamp)
		if n := s.Len(); applyErr == nil && (s.Apply(m) != nil || s.Len() != n) {
			t.Fatal("a second Apply of the same message was not a no-op")
		}
	})
}

func FuzzDecodeTally(f *testing.F) {
	f.Add(must(f)(EncodeTally(TallyBody{Present: 10_000, Counts: []TallyCount{{Target: someID, Count: 7}, {Target: someID, Emoji: "👍", Count: 3}}})))
	f.Add(must(f)(EncodeTally(TallyBody{})))
	f.Fuzz(func(t *testing.T, body []byte) {
		tb, err := DecodeTally(body)
		if err != nil {
			return
		}
		again, err := DecodeTally(must(t)(EncodeTally(tb)))
		if err != nil || !reflect.DeepEqual(again, tb) {
			t.Fatalf("re-encoded %+v decodes to %+v, %v", tb, again, err)
		}
	})
}
