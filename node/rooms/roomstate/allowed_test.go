package roomstate

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

func TestAllowed(t *testing.T) {
	f := newFixture(t, 3)
	s := f.state()
	mod, lis, muted := f.mods[0], f.listeners[0], f.listeners[1]
	applyAll(t, s, f.modGrants()) // moderators from t0 for 24 h
	applyAll(t, s, []room.Message{f.mute(f.host, at(100), muted.Public(), at(100+600))})
	q := f.question(lis, at(10), "why?").ID()
	now := at(200)
	after := t0.Add(25 * time.Hour) // the moderators' grants have expired

	stranger := keys.GeneratePrivateKey()
	otherRoom := room.DeriveID(f.host.Public(), room.NewNonce())
	grantFor := func(signer keys.PrivateKey, r room.ID, issued time.Time, life time.Duration) []byte {
		g := room.RoleGrant{Room: r, Grantee: lis.Public(), Role: room.RoleSpeaker, IssuedAt: issued, ExpiresAt: issued.Add(life)}
		if err := g.Sign(signer); err != nil {
			t.Fatal(err)
		}
		return must(t)(EncodeRoleGrant(g))
	}
	wrongRoom := f.chat(lis, now, "hi")
	wrongRoom.Room = otherRoom
	unknownKind := f.chat(lis, now, "hi")
	unknownKind.Kind = 99
	bad := func(kind room.Kind, body []byte) room.Message { return f.msg(lis, kind, now, body) }

	tests := []struct {
		name string
		m    room.Message
		now  time.Time
		want error
	}{
		{"listener chat", f.chat(lis, now, "hello"), now, nil},
		{"listener question", f.question(lis, now, "why?"), now, nil},
		{"listener upvote", f.upvote(lis, now, q), now, nil},
		{"listener reaction", f.reaction(lis, now, q, "🙏"), now, nil},
		{"listener presence", f.presence(lis, now, time.Minute, false), now, nil},
		{"listener answered", f.answered(lis, now, q), now, ErrNotAllowed},
		{"listener pin", f.pin(lis, now, q), now, ErrNotAllowed},
		{"listener hide", f.hide(lis, now, q), now, ErrNotAllowed},
		{"listener mute", f.mute(lis, now, muted.Public(), now.Add(time.Hour)), now, ErrNotAllowed},
		{"listener grant", f.msg(lis, room.KindRoleGrant, now, grantFor(f.host, f.desc.Room, now, time.Hour)), now, ErrNotAllowed},
		{"moderator answered", f.answered(mod, now, q), now, nil},
		{"moderator pin", f.pin(mod, now, q), now, nil},
		{"moderator unpin", f.pin(mod, now, room.MessageID{}), now, nil},
		{"moderator hide", f.hide(mod, now, q), now, nil},
		{"moderator mute", f.mute(mod, now, lis.Public(), now.Add(time.Hour)), now, nil},
		{"moderator relays a host grant", f.msg(mod, room.KindRoleGrant, now, grantFor(f.host, f.desc.Room, now, time.Hour)), now, nil},
		{"expired moderator hide", f.hide(mod, after, q), after, ErrNotAllowed},
		{"moderator hide backdated before its grant", f.hide(mod, t0.Add(-time.Hour), q), now, ErrNotAllowed},
		{"host hide", f.hide(f.host, after, q), after, nil},
		{"host grant", f.msg(f.host, room.KindRoleGrant, now, grantFor(f.host, f.desc.Room, now, time.Hour)), now, nil},
		{"grant signed by a stranger", f.msg(f.host, room.KindRoleGrant, now, grantFor(stranger, f.desc.Room, now, time.Hour)), now, ErrBadGrant},
		{"grant signed by a moderator", f.msg(mod, room.KindRoleGrant, now, grantFor(mod, f.desc.Room, now, time.Hour)), now, ErrBadGrant},
		{"grant for another room", f.msg(f.host, room.KindRoleGrant, now, grantFor(f.host, otherRoom, now, time.Hour)), now, ErrBadGrant},
		{"expired grant", f.msg(f.host, room.KindRoleGrant, now, grantFor(f.host, f.desc.Room, t0.Add(-2*time.Hour), time.Hour)), now, ErrBadGrant},
		{"mute of the host", f.mute(mod, now, f.host.Public(), now.Add(time.Hour)), now, ErrNotAllowed},
		{"mute too long", f.mute(mod, now, lis.Public(), now.Add(MaxMute+time.Second)), now, ErrBadBody},
		{"mute ending before it starts", f.mute(mod, now, lis.Public(), now.Add(-time.Second)), now, ErrBadBody},
		{"muted chat", f.chat(muted, at(150), "let me speak"), now, ErrMuted},
		{"muted question", f.question(muted, at(150), "?"), now, ErrMuted},
		{"muted upvote", f.upvote(muted, at(150), q), now, ErrMuted},
		{"muted reaction", f.reaction(muted, at(150), q, "👎"), now, ErrMuted},
		{"muted presence", f.presence(muted, at(150), time.Minute, false), now, nil},
		{"chat before the mute", f.chat(muted, at(99), "earlier"), now, nil},
		{"chat after the mute", f.chat(muted, at(700), "later"), at(700), nil},
		{"chat at the limit", f.chat(lis, now, strings.Repeat("é", MaxChatSize/2)), now, nil},
		{"chat too long", bad(room.KindChat, rawText(strings.Repeat("a", MaxChatSize+1))), now, ErrBadBody},
		{"question too long", bad(room.KindQuestion, rawText(strings.Repeat("a", MaxQuestionSize+1))), now, ErrBadBody},
		{"question not UTF-8", bad(room.KindQuestion, rawText("\xff")), now, ErrBadBody},
		{"empty body", bad(room.KindChat, nil), now, ErrBadBody},
		{"garbage body", bad(room.KindUpvote, []byte{0xff, 0xff}), now, ErrBadBody},
		{"chat body as upvote", bad(room.KindUpvote, must(t)(EncodeChat(ChatBody{Text: "hi", ReplyTo: room.MessageID{}}))), now, ErrBadBody},
		{"another room", wrongRoom, now, ErrWrongRoom},
		{"unknown kind", unknownKind, now, ErrUnknownKind},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := s.Allowed(tt.m, tt.now)
			if tt.want == nil && err != nil || !errors.Is(err, tt.want) {
				t.Fatalf("Allowed = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRoles(t *testing.T) {
	f := newFixture(t, 3)
	s := f.state()
	mod, spk, lis := f.mods[0], f.listeners[0], f.listeners[1]
	applyAll(t, s, []room.Message{
		f.grantMsg(f.host, f.host, mod.Public(), room.RoleModerator, t0, time.Hour),
		f.grantMsg(f.host, f.host, spk.Public(), room.RoleSpeaker, t0, 2*time.Hour),
		f.grantMsg(f.host, f.host, mod.Public(), room.RoleSpeaker, t0, 2*time.Hour),
	})
	// A grant the host did not sign is refused by Apply and gives nothing.
	forged := f.grantMsg(f.host, mod, lis.Public(), room.RoleModerator, t0, time.Hour)
	if err := s.Apply(forged); !errors.Is(err, ErrBadGrant) {
		t.Fatalf("Apply(forged grant) = %v, want ErrBadGrant", err)
	}
	tests := []struct {
		who  keys.PrivateKey
		at   time.Time
		want Role
	}{
		{f.host, t0, RoleHost},
		{f.host, t0.Add(100 * time.Hour), RoleHost},
		{mod, at(10), RoleModerator},
		{mod, t0.Add(90 * time.Minute), RoleSpeaker}, // its moderator grant expired
		{mod, t0.Add(3 * time.Hour), RoleListener},
		{mod, t0.Add(-room.MaxClockSkew), RoleModerator}, // skew allowance
		{mod, t0.Add(-room.MaxClockSkew - time.Millisecond), RoleListener},
		{spk, at(10), RoleSpeaker},
		{lis, at(10), RoleListener},
	}
	for _, tt := range tests {
		if got := s.Role(tt.who.Public(), tt.at); got != tt.want {
			t.Errorf("Role at %s = %s, want %s", tt.at.Sub(t0), got, tt.want)
		}
	}
	if s.Muted(f.host.Public(), at(10)) {
		t.Error("host muted")
	}
}

func TestApplyRejects(t *testing.T) {
	f := newFixture(t, 1)
	s := f.state()
	lis := f.listeners[0]
	wrong := f.chat(lis, t0, "hi")
	wrong.Room = room.DeriveID(f.host.Public(), room.NewNonce())
	tests := []struct {
		name string
		m    room.Message
		want error
	}{
		{"another room", wrong, ErrWrongRoom},
		{"bad body", f.msg(lis, room.KindChat, t0, []byte{1}), ErrBadBody},
		{"mute too long", f.mute(f.host, t0, lis.Public(), t0.Add(MaxMute+time.Millisecond)), ErrBadBody},
		{"forged grant", f.grantMsg(f.host, lis, lis.Public(), room.RoleModerator, t0, time.Hour), ErrBadGrant},
	}
	for _, tt := range tests {
		if err := s.Apply(tt.m); !errors.Is(err, tt.want) {
			t.Errorf("%s: Apply = %v, want %v", tt.name, err, tt.want)
		}
	}
	if s.Len() != 0 {
		t.Errorf("%d rejected messages recorded", s.Len())
	}
}
