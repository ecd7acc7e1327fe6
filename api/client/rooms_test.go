package client_test

import (
	"errors"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
	"github.com/backchannel/backchannel/api/client"
)

// TestRooms walks a room's life through the client: every method once.
func TestRooms(t *testing.T) {
	s := apitest.StartServer(t)
	bob := apitest.PeerID(1)
	s.Fake.AddRemoteRoom("Town Hall", "", bob)
	c, err := client.FromHome(s.Home)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	start := time.Date(2026, 3, 1, 18, 0, 0, 0, time.UTC)
	r, err := c.CreateRoom(ctx, "Standup", "daily", start, nil)
	if err != nil || r.Name != "Standup" || !r.Joined || r.Start == nil || !r.Start.Equal(start) {
		t.Fatalf("CreateRoom: %+v, %v", r, err)
	}
	found, err := c.DiscoverRooms(ctx, "town hall")
	if err != nil || len(found) != 1 || found[0].Joined {
		t.Fatalf("DiscoverRooms: %+v, %v", found, err)
	}
	if j, err := c.JoinRoom(ctx, "Town Hall", nil); err != nil || !j.Joined || j.HostID != bob.String() {
		t.Fatalf("JoinRoom: %+v, %v", j, err)
	}
	if rs, err := c.Rooms(ctx); err != nil || len(rs) != 2 {
		t.Fatalf("Rooms: %+v, %v", rs, err)
	}
	line, err := c.RoomSay(ctx, "Standup", "hello")
	if err != nil {
		t.Fatal(err)
	}
	q, err := c.RoomAsk(ctx, r.ID, "ship?")
	if err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		name string
		err  error
	}{
		{"upvote", c.RoomUpvote(ctx, "Standup", q)},
		{"answer", c.RoomAnswer(ctx, "Standup", q)},
		{"pin", c.RoomPin(ctx, "Standup", q)},
		{"react", c.RoomReact(ctx, "Standup", line, "🎉")},
		{"grant", c.RoomGrant(ctx, "Standup", bob.String(), "speaker", time.Hour)},
		{"mute", c.RoomMute(ctx, "Standup", bob.String(), time.Now().Add(time.Minute))},
	} {
		if step.err != nil {
			t.Errorf("%s: %v", step.name, step.err)
		}
	}
	chat, err := c.RoomChat(ctx, "Standup", 5)
	if err != nil || len(chat) != 1 || chat[0].ID != line || len(chat[0].Reactions) != 1 {
		t.Errorf("RoomChat: %+v, %v", chat, err)
	}
	qs, err := c.RoomQuestions(ctx, "Standup")
	if err != nil || len(qs) != 1 || qs[0].Upvotes != 1 || !qs[0].Answered || !qs[0].Pinned {
		t.Errorf("RoomQuestions: %+v, %v", qs, err)
	}
	d, err := c.Room(ctx, "Standup")
	if err != nil || len(d.Speakers) != 2 {
		t.Errorf("Room: %+v, %v", d, err)
	}
	if err := c.RoomHide(ctx, "Standup", line); err != nil {
		t.Error(err)
	}
	if err := c.LeaveRoom(ctx, "Standup"); err != nil {
		t.Error(err)
	}
	var ae *client.Error
	if _, err := c.RoomSay(ctx, "Standup", "anyone?"); !errors.As(err, &ae) || ae.Code != api.CodeNotFound {
		t.Errorf("say after leave: %v, want %s", err, api.CodeNotFound)
	}
	if err := c.RoomAnswer(ctx, "Town Hall", q); !errors.As(err, &ae) || ae.Code != api.CodeNotAllowed {
		t.Errorf("answer as a listener: %v, want %s", err, api.CodeNotAllowed)
	}
}
