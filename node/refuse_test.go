package node

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// TestRefuseInput: the node refuses, before sending, a blank text, a
// reaction that is not one emoji and an event whose time has passed, in 1:1
// chats, rooms and groups, with the sentinel of each and a reason in the
// user's words.
func TestRefuseInput(t *testing.T) {
	a := newTestNode(t, "")
	b := newTestNode(t, "")
	ctx := t.Context()
	info, err := a.CreateRoom(ctx, "refusals", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := a.CreateGroup(ctx, "refusals")
	if err != nil {
		t.Fatal(err)
	}
	var target storage.MessageID
	target[0] = 1
	var rtarget room.MessageID
	rtarget[0] = 1
	past := time.Now().Add(-time.Hour)
	tests := []struct {
		name   string
		do     func() error
		kind   error
		reason string
	}{
		{"dm empty", func() error { _, err := a.Send(ctx, b.ID(), Outgoing{Body: ""}); return err }, ErrInvalidInput, "a message cannot be empty or only spaces"},
		{"dm spaces", func() error { _, err := a.Send(ctx, b.ID(), Outgoing{Body: "   \t "}); return err }, ErrInvalidInput, "a message cannot be empty or only spaces"},
		{"dm reply spaces", func() error { _, err := a.Send(ctx, b.ID(), Outgoing{Body: " ", ReplyTo: target}); return err }, ErrInvalidInput, "a message cannot be empty or only spaces"},
		{"dm reaction sentence", func() error {
			_, err := a.Send(ctx, b.ID(), Outgoing{Kind: KindReaction, Body: "nice one", ReplyTo: target})
			return err
		}, ErrInvalidInput, "a reaction is one emoji"},
		{"dm reaction two", func() error {
			_, err := a.Send(ctx, b.ID(), Outgoing{Kind: KindReaction, Body: "👍👍", ReplyTo: target})
			return err
		}, ErrInvalidInput, "a reaction is one emoji"},
		{"room chat spaces", func() error { _, err := a.RoomSay(ctx, info.ID, "  "); return err }, ErrInvalidRoom, "a message cannot be empty or only spaces"},
		{"room question spaces", func() error { _, err := a.RoomAsk(ctx, info.ID, "\n "); return err }, ErrInvalidRoom, "a message cannot be empty or only spaces"},
		{"room reaction sentence", func() error { return a.RoomReact(ctx, info.ID, rtarget, "great talk") }, ErrInvalidRoom, "a reaction is one emoji"},
		{"room event past", func() error { _, err := a.CreateRoom(ctx, "yesterday", "", past, nil); return err }, ErrInvalidRoom, "the event's time has passed"},
		{"group spaces", func() error { _, err := a.GroupSend(ctx, g.ID, GroupOutgoing{Body: " "}); return err }, ErrInvalidGroup, "a message cannot be empty or only spaces"},
		{"group reaction sentence", func() error {
			_, err := a.GroupSend(ctx, g.ID, GroupOutgoing{Kind: KindReaction, Body: "ok", ReplyTo: [32]byte{1}})
			return err
		}, ErrInvalidGroup, "a reaction is one emoji"},
		{"group event blank", func() error {
			_, err := a.GroupSend(ctx, g.ID, GroupOutgoing{Kind: KindEvent, Body: " ", Start: time.Now().Add(time.Hour)})
			return err
		}, ErrInvalidGroup, "a message cannot be empty or only spaces"},
		{"group event past", func() error {
			_, err := a.GroupSend(ctx, g.ID, GroupOutgoing{Kind: KindEvent, Body: "Picnic", Start: past})
			return err
		}, ErrInvalidGroup, "the event's time has passed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if !errors.Is(err, tc.kind) || err.Error() != tc.reason {
				t.Fatalf("got %v, want %v reading %q", err, tc.kind, tc.reason)
			}
		})
	}
	// What is fine still goes.
	if _, err := a.RoomSay(ctx, info.ID, " hello "); err != nil {
		t.Fatal(err)
	}
	if _, err := a.CreateRoom(ctx, "just now", "", time.Now().Add(-10*time.Second), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GroupSend(ctx, g.ID, GroupOutgoing{Kind: KindEvent, Body: "Picnic", Start: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Send(ctx, b.ID(), Outgoing{Kind: KindReaction, Body: "👍🏽", ReplyTo: target}); err != nil {
		t.Fatal(err)
	}
}

// TestRefuseInUserWords: a moderator's grant, a listener's answer and a
// truncated invite are refused in sentences that say what to do; the
// code's words stay wrapped.
func TestRefuseInUserWords(t *testing.T) {
	host := newTestNode(t, "", fastRooms)
	l := newTestNode(t, "", fastRooms, withBootstrap(host.Addrs()[0].String()))
	ctx := t.Context()
	info, err := host.CreateRoom(ctx, "words", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.JoinRoom(ctx, info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	q, err := host.RoomAsk(ctx, info.ID, "why?")
	if err != nil {
		t.Fatal(err)
	}
	l.waitUntil("question", func() bool { qs, _ := l.RoomQuestions(info.ID); return len(qs) == 1 })

	err = l.RoomAnswer(ctx, info.ID, q)
	if !errors.Is(err, roomstate.ErrNotAllowed) || !errors.Is(err, ErrInvalidRoom) || err.Error() != "only the room's host and moderators can answer questions" {
		t.Errorf("listener's answer: %v", err)
	}
	if err := host.RoomGrant(ctx, info.ID, l.ID(), room.RoleModerator, time.Hour); err != nil {
		t.Fatal(err)
	}
	l.waitUntil("moderator", func() bool {
		return l.RoomAnswer(ctx, info.ID, q) == nil
	})
	err = l.RoomGrant(ctx, info.ID, host.ID(), room.RoleSpeaker, time.Hour)
	if !errors.Is(err, roomstate.ErrNotAllowed) || !errors.Is(err, ErrInvalidRoom) || err.Error() != "only the room's host can make speakers" {
		t.Errorf("moderator's grant: %v", err)
	}

	link := host.invite()
	for _, cut := range []int{len("backchannel://invite?peer=") + 10, strings.Index(link, "&") - 3, len(link) - 5} {
		_, err := l.AddContact(ctx, link[:cut], "")
		if !errors.Is(err, ErrInvalidInvite) || err.Error() != "this invite link is incomplete: copy the whole link" {
			t.Errorf("invite cut at %d (%q): %v", cut, link[:cut], err)
		}
	}
}
