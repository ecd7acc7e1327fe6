package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api"
)

// TestRoomTwoDaemons is a live room end to end through the CLI: a host
// creates a room; a listener that knows only the host's address (as a
// bootstrap peer) finds it by name through the DHT, joins it, and sees the
// host's chat line and question; the host sees the listener's upvote.
func TestRoomTwoDaemons(t *testing.T) {
	homeA, homeB := t.TempDir(), t.TempDir()
	startDaemon(t, homeA)
	a := decodeJSON[api.Self](t, ok(t, homeA, "id", "--json"))
	startDaemon(t, homeB, "--bootstrap", a.Addrs[0]+"/p2p/"+a.PeerID)

	created := decodeJSON[api.Room](t, ok(t, homeA, "room", "create", "Town Hall", "--description", "ask away", "--json"))
	if created.HostID != a.PeerID || !created.Joined {
		t.Fatalf("created %+v", created)
	}
	say := decodeJSON[api.RoomPosted](t, ok(t, homeA, "room", "say", "Town Hall", "welcome", "all", "--json"))
	ask := decodeJSON[api.RoomPosted](t, ok(t, homeA, "room", "ask", "Town Hall", "who", "is", "here?", "--json"))

	eventsB := watchEvents(t, homeB)
	var joined api.Room
	eventually(t, "B joins the room by name", func() bool {
		out, _, code := cli(t, homeB, "room", "join", "town hall", "--json")
		if code != 0 {
			return false
		}
		joined = decodeJSON[api.Room](t, out)
		return true
	})
	if joined.ID != created.ID || joined.Name != "Town Hall" || joined.HostID != a.PeerID {
		t.Errorf("B joined %+v, want %+v", joined, created)
	}
	eventually(t, "B sees the host's chat line", func() bool {
		chat := decodeJSON[api.RoomChat](t, ok(t, homeB, "room", "read", created.ID, "--json")).Messages
		return slices.ContainsFunc(chat, func(m api.RoomChatLine) bool {
			return m.ID == say.ID && m.Text == "welcome all" && m.SenderID == a.PeerID
		})
	})
	eventually(t, "B sees the host's question", func() bool {
		qs := decodeJSON[api.RoomQuestions](t, ok(t, homeB, "room", "questions", "Town Hall", "--json")).Questions
		return len(qs) == 1 && qs[0].ID == ask.ID && qs[0].Text == "who is here?"
	})
	ok(t, homeB, "room", "upvote", "Town Hall", ask.ID[:10])
	eventually(t, "A sees B's upvote", func() bool {
		qs := decodeJSON[api.RoomQuestions](t, ok(t, homeA, "room", "questions", "Town Hall", "--json")).Questions
		return len(qs) == 1 && qs[0].Upvotes == 1
	})
	eventually(t, "B's event stream shows room messages", func() bool {
		return slices.ContainsFunc(eventsB(), func(e api.Event) bool {
			return e.Type == "room_message" && e.Room != nil && e.Room.RoomID == created.ID
		})
	})
	// B is a listener: moderation is refused with a clear error.
	if _, errs, code := cli(t, homeB, "room", "answer", "Town Hall", ask.ID); code == 0 || !strings.Contains(errs, "only the room's host and moderators can answer") {
		t.Errorf("B marks answered: exit %d, %q; want refused", code, errs)
	}

	// B asks the host in private: it lands in A's requests, marked with the room.
	b := decodeJSON[api.Self](t, ok(t, homeB, "id", "--json"))
	asked := decodeJSON[api.Message](t, ok(t, homeB, "room", "ask-speaker", "Town Hall", a.PeerID, "may", "I", "ask", "in", "private?", "--json"))
	if asked.Context != "room:"+created.ID {
		t.Errorf("the private question's context is %q", asked.Context)
	}
	eventually(t, "A has B's private question in requests", func() bool {
		reqs := decodeJSON[api.Conversations](t, ok(t, homeA, "requests", "--json")).Conversations
		return slices.ContainsFunc(reqs, func(c api.Conversation) bool {
			return c.PeerID == b.PeerID && c.Origin == "room:"+created.ID && c.Last.Text == "may I ask in private?"
		})
	})
	if out := ok(t, homeA, "requests"); !strings.Contains(out, `room "Town Hall"`) {
		t.Errorf("A's requests do not say where the question came from:\n%s", out)
	}
}
