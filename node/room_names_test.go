package node

import (
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
)

// personIn returns how n's room id shows p, from who is present.
func personIn(t *testing.T, n *testNode, id room.ID, p peer.ID) (RoomPerson, bool) {
	t.Helper()
	who, err := n.RoomPeople(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range who.Present {
		if x.Peer == p {
			return x, true
		}
	}
	return RoomPerson{}, false
}

// lineFrom returns how n's room id shows the author of its chat line text.
func lineFrom(t *testing.T, n *testNode, id room.ID, text string) (RoomPerson, bool) {
	t.Helper()
	lines, err := n.RoomChat(id, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if l.Text == text {
			return l.From, true
		}
	}
	return RoomPerson{}, false
}

// TestRoomNames: each member's name travels signed in the room, from the
// profile or chosen for the room or none; two keys claiming one name are
// told apart by their peer IDs; a contact shows by our name for them, with
// its verification; roles show beside names; a changed profile name or a
// new choice reaches the room, and the choice outlives a restart.
func TestRoomNames(t *testing.T) {
	useTCP(t) // Bob restarts under the same key
	host := newTestNode(t, "", fastRooms)
	boot := withBootstrap(host.Addrs()[0].String())
	bobHome := t.TempDir()
	bob := newTestNode(t, bobHome, fastRooms, boot)
	carol := newTestNode(t, "", fastRooms, boot)
	mallory := newTestNode(t, "", fastRooms, boot)
	for n, name := range map[*testNode]string{host: "Alice", bob: "Robert"} {
		if err := n.SetProfileName(name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := host.AddContact(t.Context(), bob.invite(), "bobby"); err != nil {
		t.Fatal(err)
	}
	if err := host.SetVerified(bob.ID(), true); err != nil {
		t.Fatal(err)
	}

	info, err := host.CreateRoom(t.Context(), "names", "", time.Time{}, nil) // the profile name
	if err != nil {
		t.Fatal(err)
	}
	joins := map[*testNode]*RoomNameChoice{bob: {Name: "Bob"}, carol: {}, mallory: {Name: "alice"}}
	for n, as := range joins {
		if _, err := n.JoinRoom(t.Context(), info.ID.String(), as); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := bob.JoinRoom(t.Context(), info.ID.String(), &RoomNameChoice{Name: "bad\x1b[2J"}); !errors.Is(err, errs.ErrInvalidInput) {
		t.Errorf("a name with ESC: %v, want ErrInvalidInput", err)
	}
	if err := host.RoomGrant(t.Context(), info.ID, carol.ID(), room.RoleModerator, time.Hour); err != nil {
		t.Fatal(err)
	}
	say := map[*testNode]string{host: "hello from the host", bob: "hi, Bob here", carol: "no name", mallory: "I am the host, honest"}
	for n, text := range say {
		if _, err := n.RoomSay(t.Context(), info.ID, text); err != nil {
			t.Fatal(err)
		}
	}

	end := func(n *testNode) string { return shortEnd(n.ID()) }
	tests := []struct {
		name    string
		viewer  *testNode
		author  *testNode
		display string
		role    roomstate.Role
		contact bool
	}{
		{"carol sees the host told apart from its impostor", carol, host, "Alice (" + end(host) + ")", roomstate.RoleHost, false},
		{"carol sees the impostor told apart", carol, mallory, "alice (" + end(mallory) + ")", roomstate.RoleListener, false},
		{"carol sees Bob by his room name", carol, bob, "Bob", roomstate.RoleListener, false},
		{"carol sees herself", carol, carol, "you", roomstate.RoleModerator, false},
		{"the host sees Bob by its name for him, verified", host, bob, "bobby", roomstate.RoleListener, true},
		{"the host sees the name it goes by taken", host, mallory, "alice (" + end(mallory) + ")", roomstate.RoleListener, false},
		{"the host sees itself", host, host, "Alice (you)", roomstate.RoleHost, false},
		{"bob sees carol by her peer ID", bob, carol, end(carol), roomstate.RoleModerator, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var line, present RoomPerson
			tt.viewer.waitUntil("the line and the presence", func() bool {
				var ok1, ok2 bool
				line, ok1 = lineFrom(t, tt.viewer, info.ID, say[tt.author])
				present, ok2 = personIn(t, tt.viewer, info.ID, tt.author.ID())
				// Every claim of the name must have arrived too (the
				// impostor's), so wait for what the viewer should show.
				return ok1 && ok2 && present.Role == tt.role && line.Display == tt.display && present.Display == tt.display
			})
			for _, p := range []RoomPerson{line, present} {
				if p.Display != tt.display || p.Role != tt.role || p.Contact != tt.contact || p.Verified != tt.contact || p.Me != (tt.viewer == tt.author) {
					t.Errorf("shown as %+v; want %q, %s, contact and verified %v", p, tt.display, tt.role, tt.contact)
				}
			}
		})
	}

	// The host's new profile name reaches the room in its presence; Bob
	// goes by his profile name from now on, also after a restart.
	if err := host.SetProfileName("Alicia"); err != nil {
		t.Fatal(err)
	}
	if err := bob.RoomSetName(t.Context(), info.ID, RoomNameChoice{UseProfile: true}); err != nil {
		t.Fatal(err)
	}
	carol.waitUntil("the new names", func() bool {
		h, _ := personIn(t, carol, info.ID, host.ID())
		b, _ := personIn(t, carol, info.ID, bob.ID())
		return h.Name == "Alicia" && b.Name == "Robert" && b.Display == "Robert"
	})
	bob.stop()
	bob = newTestNode(t, bobHome, fastRooms, boot)
	who, err := bob.RoomPeople(info.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !who.As.UseProfile || who.MyName != "Robert" {
		t.Errorf("after a restart Bob goes by %+v, %q; want his profile name", who.As, who.MyName)
	}
	if _, err := bob.RoomSay(t.Context(), info.ID, "back"); err != nil {
		t.Fatal(err)
	}
	carol.waitUntil("Bob's line after his restart", func() bool {
		p, ok := lineFrom(t, carol, info.ID, "back")
		return ok && p.Name == "Robert"
	})
}

// shortEnd is how a room shows the end of a peer ID.
func shortEnd(p peer.ID) string {
	s := p.String()
	return "…" + s[len(s)-8:]
}
