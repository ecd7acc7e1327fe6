package roomstate

import (
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

// t0 is the fixed "now" of the tests; nothing here reads the clock.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// at returns t0 plus n seconds.
func at(n int) time.Time { return t0.Add(time.Duration(n) * time.Second) }

// fixture is a room with its host, two moderators and listeners.
type fixture struct {
	t         testing.TB
	host      keys.PrivateKey
	mods      [2]keys.PrivateKey
	listeners []keys.PrivateKey
	desc      room.Descriptor
	seq       map[keys.PublicKey]uint64
}

func newFixture(t testing.TB, listeners int) *fixture {
	t.Helper()
	f := &fixture{t: t, host: keys.GeneratePrivateKey(), seq: make(map[keys.PublicKey]uint64)}
	for i := range f.mods {
		f.mods[i] = keys.GeneratePrivateKey()
	}
	for range listeners {
		f.listeners = append(f.listeners, keys.GeneratePrivateKey())
	}
	f.desc = room.Descriptor{Nonce: room.NewNonce(), Name: "Ask me anything", Created: t0.Add(-time.Hour)}
	if err := f.desc.Sign(f.host); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) state() *State { return New(f.desc) }

// msg signs a message of the room from sender, with the sender's next
// sequence number.
func (f *fixture) msg(sender keys.PrivateKey, kind room.Kind, ts time.Time, body []byte) room.Message {
	f.t.Helper()
	p := sender.Public()
	f.seq[p]++
	m := room.Message{Room: f.desc.Room, Kind: kind, Seq: f.seq[p], Timestamp: ts, Body: body}
	if err := m.Sign(sender); err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fixture) chat(sender keys.PrivateKey, ts time.Time, text string) room.Message {
	return f.msg(sender, room.KindChat, ts, must(f.t)(EncodeChat(ChatBody{Text: text, ReplyTo: room.MessageID{}})))
}

func (f *fixture) question(sender keys.PrivateKey, ts time.Time, text string) room.Message {
	return f.msg(sender, room.KindQuestion, ts, must(f.t)(EncodeQuestion(QuestionBody{Text: text})))
}

func (f *fixture) upvote(sender keys.PrivateKey, ts time.Time, q room.MessageID) room.Message {
	return f.msg(sender, room.KindUpvote, ts, must(f.t)(EncodeUpvote(q)))
}

func (f *fixture) answered(sender keys.PrivateKey, ts time.Time, q room.MessageID) room.Message {
	return f.msg(sender, room.KindAnswered, ts, must(f.t)(EncodeAnswered(q)))
}

func (f *fixture) pin(sender keys.PrivateKey, ts time.Time, target room.MessageID) room.Message {
	return f.msg(sender, room.KindPin, ts, must(f.t)(EncodePin(target)))
}

func (f *fixture) hide(sender keys.PrivateKey, ts time.Time, target room.MessageID) room.Message {
	return f.msg(sender, room.KindHide, ts, must(f.t)(EncodeHide(target)))
}

func (f *fixture) reaction(sender keys.PrivateKey, ts time.Time, target room.MessageID, emoji string) room.Message {
	return f.msg(sender, room.KindReaction, ts, must(f.t)(EncodeReaction(target, emoji)))
}

func (f *fixture) presence(sender keys.PrivateKey, ts time.Time, ttl time.Duration, leaving bool) room.Message {
	return f.msg(sender, room.KindPresence, ts, must(f.t)(EncodePresence(PresenceBody{TTL: ttl, Leaving: leaving})))
}

func (f *fixture) mute(sender keys.PrivateKey, ts time.Time, peer keys.PublicKey, until time.Time) room.Message {
	return f.msg(sender, room.KindMute, ts, must(f.t)(EncodeMute(peer, until)))
}

// grantMsg returns a role-grant message from carrier holding a grant of role
// to grantee from issued for life, signed by signer.
func (f *fixture) grantMsg(carrier, signer keys.PrivateKey, grantee keys.PublicKey, role room.Role, issued time.Time, life time.Duration) room.Message {
	f.t.Helper()
	g := room.RoleGrant{Room: f.desc.Room, Grantee: grantee, Role: role, IssuedAt: issued, ExpiresAt: issued.Add(life)}
	if err := g.Sign(signer); err != nil {
		f.t.Fatal(err)
	}
	return f.msg(carrier, room.KindRoleGrant, issued, must(f.t)(EncodeRoleGrant(g)))
}

// modGrants returns the host's moderator grants to both moderators, from
// t0 for a day.
func (f *fixture) modGrants() []room.Message {
	var out []room.Message
	for _, m := range f.mods {
		out = append(out, f.grantMsg(f.host, f.host, m.Public(), room.RoleModerator, t0, 24*time.Hour))
	}
	return out
}

func must(t testing.TB) func([]byte, error) []byte {
	return func(b []byte, err error) []byte {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
}

func applyAll(t testing.TB, s *State, ms []room.Message) {
	t.Helper()
	for _, m := range ms {
		if err := s.Apply(m); err != nil {
			t.Fatalf("apply %s: %v", m.Kind, err)
		}
	}
}

// rawText encodes a chat or question body (version 1, text in field 2)
// by hand, with no checks, to make bodies the encoders refuse (protobuf's
// Marshal refuses invalid UTF-8 itself).
func rawText(text string) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, payloadVersion)
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendString(b, text)
}
