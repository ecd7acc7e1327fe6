package main

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api"
)

// TestGroupThreeDaemons is a private group end to end through the CLI: A
// creates a group and invites B and C, strangers to it (the invitation lands
// in their requests); both join; a line, a reply, a reaction, an event with
// an RSVP and a read receipt go round; A removes C, and what A sends next
// reaches B but not C.
func TestGroupThreeDaemons(t *testing.T) {
	homeA, homeB, homeC := t.TempDir(), t.TempDir(), t.TempDir()
	startDaemon(t, homeA)
	a := decodeJSON[api.Self](t, ok(t, homeA, "id", "--json"))
	boot := a.Addrs[0] + "/p2p/" + a.PeerID
	startDaemon(t, homeB, "--bootstrap", boot)
	startDaemon(t, homeC, "--bootstrap", boot)
	b := decodeJSON[api.Self](t, ok(t, homeB, "id", "--json"))
	c := decodeJSON[api.Self](t, ok(t, homeC, "id", "--json"))
	eventsB := watchEvents(t, homeB)

	g := decodeJSON[api.Group](t, ok(t, homeA, "group", "create", "Friends", "--json"))
	ok(t, homeA, "group", "invite", "Friends", b.PeerID, c.PeerID)
	for _, home := range []string{homeB, homeC} {
		eventually(t, "the invitation at "+home, func() bool {
			gs := decodeJSON[api.Groups](t, ok(t, home, "group", "list", "--json")).Groups
			return len(gs) == 1 && gs[0].ID == g.ID && gs[0].State == "invited" && gs[0].InviterID == a.PeerID
		})
		if !hasThread(requests(t, home), a.PeerID) {
			t.Errorf("the invitation from a stranger is not in the requests of %s", home)
		}
		joined := decodeJSON[api.Group](t, ok(t, home, "group", "join", "Friends", "--json"))
		if joined.State != "joined" || joined.MemberCount != 3 {
			t.Fatalf("joined %+v", joined)
		}
	}
	for _, home := range []string{homeA, homeB, homeC} {
		eventually(t, "the key at "+home, func() bool {
			return !decodeJSON[api.GroupDetail](t, ok(t, home, "group", "members", "Friends", "--json")).KeyPending
		})
	}

	hello := decodeJSON[api.GroupMessage](t, ok(t, homeA, "group", "send", "Friends", "hello", "friends", "--json"))
	lines := func(home string) []api.GroupMessage {
		return decodeJSON[api.GroupMessages](t, ok(t, home, "group", "read", "Friends", "--json", "--limit", "100")).Messages
	}
	has := func(home string, match func(api.GroupMessage) bool) bool {
		return slices.ContainsFunc(lines(home), match)
	}
	for _, home := range []string{homeB, homeC} {
		eventually(t, "A's line at "+home, func() bool {
			return has(home, func(m api.GroupMessage) bool {
				return m.ID == hello.ID && m.SenderID == a.PeerID && m.Text == "hello friends"
			})
		})
	}
	reply := decodeJSON[api.GroupMessage](t, ok(t, homeB, "group", "send", "Friends", "hi", "A", "--reply-to", hello.ID[:10], "--json"))
	ok(t, homeC, "group", "send", "Friends", "🎉", "--react", hello.ID)
	picnic := decodeJSON[api.GroupMessage](t, ok(t, homeA, "group", "send", "Friends", "Picnic", "--event", "2036-06-01T12:00:00Z", "--json"))
	eventually(t, "the event at B", func() bool { return has(homeB, func(m api.GroupMessage) bool { return m.ID == picnic.ID }) })
	ok(t, homeB, "group", "send", "Friends", "yes", "--rsvp", picnic.ID)
	eventually(t, "the reply, the reaction, the RSVP and B's read receipt at A", func() bool {
		ms := lines(homeA)
		i := slices.IndexFunc(ms, func(m api.GroupMessage) bool { return m.ID == hello.ID })
		j := slices.IndexFunc(ms, func(m api.GroupMessage) bool { return m.ID == picnic.ID })
		return i >= 0 && j >= 0 && slices.ContainsFunc(ms, func(m api.GroupMessage) bool { return m.ID == reply.ID && m.ReplyTo == hello.ID }) &&
			len(ms[i].Reactions) == 1 && ms[i].Reactions[0].PeerID == c.PeerID &&
			len(ms[j].RSVPs) == 1 && ms[j].RSVPs[0].Answer == "yes" && slices.Contains(ms[i].ReadBy, b.PeerID)
	})
	out := ok(t, homeA, "group", "read", "Friends")
	if !strings.Contains(out, `plans "Picnic"`) || !strings.Contains(out, "hello friends 🎉") {
		t.Errorf("A's read printed\n%s", out)
	}

	// A removes C: C learns it, and A's next line reaches B only.
	ok(t, homeA, "group", "remove", "Friends", c.PeerID)
	eventually(t, "C removed", func() bool {
		gs := decodeJSON[api.Groups](t, ok(t, homeC, "group", "list", "--json")).Groups
		return len(gs) == 1 && gs[0].State == "removed"
	})
	eventually(t, "the new key at B", func() bool {
		d := decodeJSON[api.GroupDetail](t, ok(t, homeB, "group", "members", "Friends", "--json"))
		return d.MemberCount == 2 && !d.KeyPending
	})
	secret := decodeJSON[api.GroupMessage](t, ok(t, homeA, "group", "send", "Friends", "C", "is", "gone", "--json"))
	eventually(t, "the line after the removal at B", func() bool {
		return has(homeB, func(m api.GroupMessage) bool { return m.ID == secret.ID })
	})
	if has(homeC, func(m api.GroupMessage) bool { return m.ID == secret.ID }) {
		t.Fatal("the removed member read a line of the next epoch")
	}
	eventually(t, "B's event stream shows group events", func() bool {
		return slices.ContainsFunc(eventsB(), func(e api.Event) bool {
			return e.Type == "group_message" && e.Group != nil && e.Group.GroupID == g.ID
		})
	})
}

// TestGroupNamesDaemons: in a private group, through the CLI against three
// daemons, members who are not contacts of each other show by the profile
// names they announced in the group: B and C are A's contacts only, and C's
// `group members` and `group read` name B; A names B by her name for him.
func TestGroupNamesDaemons(t *testing.T) {
	homeA, homeB, homeC := t.TempDir(), t.TempDir(), t.TempDir()
	startDaemon(t, homeA)
	a := decodeJSON[api.Self](t, ok(t, homeA, "id", "--json"))
	boot := a.Addrs[0] + "/p2p/" + a.PeerID
	startDaemon(t, homeB, "--bootstrap", boot)
	startDaemon(t, homeC, "--bootstrap", boot)
	b := decodeJSON[api.Self](t, ok(t, homeB, "id", "--json"))
	c := decodeJSON[api.Self](t, ok(t, homeC, "id", "--json"))
	for home, name := range map[string]string{homeA: "Alice", homeB: "Bob", homeC: "Carol"} {
		ok(t, home, "profile", "set", name)
	}
	ok(t, homeA, "contacts", "add", b.Invite, "--name", "Bobby")
	ok(t, homeA, "contacts", "add", c.Invite)
	ok(t, homeB, "contacts", "add", a.Invite)
	ok(t, homeC, "contacts", "add", a.Invite)

	ok(t, homeA, "group", "create", "Friday")
	ok(t, homeA, "group", "invite", "Friday", b.PeerID, c.PeerID)
	for _, home := range []string{homeB, homeC} {
		eventually(t, "the invitation at "+home, func() bool {
			gs := decodeJSON[api.Groups](t, ok(t, home, "group", "list", "--json")).Groups
			return len(gs) == 1 && gs[0].State == "invited"
		})
		ok(t, home, "group", "join", "Friday")
	}
	member := func(display, peerID string) *regexp.Regexp {
		return regexp.MustCompile(`(?m)^member\s+` + regexp.QuoteMeta(display) + `\s+` + peerID + `$`)
	}
	eventually(t, "C lists B by the name B announced", func() bool {
		out := ok(t, homeC, "group", "members", "Friday")
		return member("Bob", b.PeerID).MatchString(out) && regexp.MustCompile(`(?m)^owner\s+Alice\s+`+a.PeerID+`$`).MatchString(out) &&
			member("you", c.PeerID).MatchString(out)
	})
	eventually(t, "B lists C by the name C announced", func() bool {
		return member("Carol", c.PeerID).MatchString(ok(t, homeB, "group", "members", "Friday"))
	})
	if out := ok(t, homeA, "group", "members", "Friday"); !member("Bobby", b.PeerID).MatchString(out) {
		t.Errorf("A does not list B by her name for him:\n%s", out)
	}

	eventually(t, "B's key", func() bool {
		return !decodeJSON[api.GroupDetail](t, ok(t, homeB, "group", "members", "Friday", "--json")).KeyPending
	})
	ok(t, homeB, "group", "send", "Friday", "who is in on Friday?")
	eventually(t, "C reads B's line under B's name", func() bool {
		return strings.Contains(ok(t, homeC, "group", "read", "Friday"), "  Bob: who is in on Friday?  [")
	})
	eventually(t, "A reads B's line under her name for him", func() bool {
		return strings.Contains(ok(t, homeA, "group", "read", "Friday"), "  Bobby: who is in on Friday?  [")
	})
}
