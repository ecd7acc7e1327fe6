package main

import (
	"regexp"
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
		return len(qs) == 1 && qs[0].Upvotes == 1 && !qs[0].Upvoted
	})
	// B's table says the vote is B's.
	if out := ok(t, homeB, "room", "questions", "Town Hall"); !strings.Contains(out, "1 (you)") {
		t.Errorf("B's questions do not mark B's upvote:\n%s", out)
	}
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

// TestRoomNamesDaemons: the names people go by in a room, through the CLI
// against three daemons. The host goes by its profile name, one listener by
// a name chosen for the room, another by none; `room who` lists each with
// its role, `room read` shows names and roles beside the lines, and `room
// nick` changes the name the room sees.
func TestRoomNamesDaemons(t *testing.T) {
	homeA, homeB, homeC := t.TempDir(), t.TempDir(), t.TempDir()
	startDaemon(t, homeA)
	a := decodeJSON[api.Self](t, ok(t, homeA, "id", "--json"))
	boot := a.Addrs[0] + "/p2p/" + a.PeerID
	startDaemon(t, homeB, "--bootstrap", boot)
	startDaemon(t, homeC, "--bootstrap", boot)
	b := decodeJSON[api.Self](t, ok(t, homeB, "id", "--json"))
	c := decodeJSON[api.Self](t, ok(t, homeC, "id", "--json"))
	ok(t, homeA, "profile", "set", "Alice")
	ok(t, homeB, "profile", "set", "Robert")

	created := decodeJSON[api.Room](t, ok(t, homeA, "room", "create", "Town Hall", "--json"))
	ok(t, homeA, "room", "say", "Town Hall", "welcome")
	for home, flags := range map[string][]string{homeB: {"--nick", "Bob"}, homeC: {"--no-nick"}} {
		eventually(t, "joining the room", func() bool {
			_, _, code := cli(t, home, append([]string{"room", "join", created.ID}, flags...)...)
			return code == 0
		})
	}
	ok(t, homeB, "room", "say", "Town Hall", "hi from Bob")
	ok(t, homeA, "room", "grant", "Town Hall", c.PeerID, "moderator", "--for", "1h")

	end := func(p string) string { return "…" + p[len(p)-8:] }
	var who string
	eventually(t, "B sees everyone with their names and roles", func() bool {
		who = ok(t, homeB, "room", "who", "Town Hall")
		return regexp.MustCompile(`(?m)^host\s+Alice\s+`+a.PeerID+`$`).MatchString(who) &&
			regexp.MustCompile(`(?m)^moderator\s+`+end(c.PeerID)+`\s+`+c.PeerID+`$`).MatchString(who) &&
			regexp.MustCompile(`(?m)^listener\s+Bob \(you\)\s+`+b.PeerID+`$`).MatchString(who)
	})
	if !regexp.MustCompile(`(?m)^you are\s+Bob \(your name for this room\)$`).MatchString(who) {
		t.Errorf("B's room who does not say the name B goes by:\n%s", who)
	}
	eventually(t, "C reads the lines with names and roles", func() bool {
		out := ok(t, homeC, "room", "read", "Town Hall")
		return strings.Contains(out, "  Alice · host: welcome  [") && strings.Contains(out, "  Bob: hi from Bob  [")
	})
	// The host names B by the name B goes by in the room: B is no contact.
	if out := ok(t, homeA, "room", "grant", "Town Hall", "bob", "speaker", "--for", "1h"); out != "bob is a speaker of Town Hall for 1h0m0s\n" {
		t.Errorf("room grant by B's room name printed %q", out)
	}
	eventually(t, "C sees B speak", func() bool {
		return regexp.MustCompile(`(?m)^speaker\s+Bob\s+` + b.PeerID + `$`).MatchString(ok(t, homeC, "room", "who", "Town Hall"))
	})

	// B goes by no name from now on: the room sees only B's peer ID.
	if out := ok(t, homeB, "room", "nick", "Town Hall", "--none"); out != "in room Town Hall you are now nameless: others see your peer ID only\n" {
		t.Errorf("room nick --none printed %q", out)
	}
	eventually(t, "C sees B nameless", func() bool {
		d := decodeJSON[api.RoomDetail](t, ok(t, homeC, "room", "who", "Town Hall", "--json"))
		i := slices.IndexFunc(d.People, func(p api.RoomPerson) bool { return p.ID == b.PeerID })
		return i >= 0 && d.People[i].Name == "" && d.People[i].Display == end(b.PeerID) && d.People[i].Role == "speaker"
	})
	if _, errs, code := cli(t, homeB, "room", "nick", "Town Hall", "x\x1b[2J"); code == 0 || !strings.Contains(errs, "no control character") {
		t.Errorf("a name with ESC: exit %d, %q", code, errs)
	}
}
