package node

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/groups/content"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/internal/naming"
	"github.com/backchannel/backchannel/storage"
)

// memberOf is how n shows p among the members of group id (ok false: not
// listed).
func memberOf(t *testing.T, n *testNode, id group.ID, p peer.ID) (GroupMember, bool) {
	t.Helper()
	ms, err := n.GroupMembers(id)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Peer == p {
			return m, true
		}
	}
	return GroupMember{}, false
}

// shownAs waits until n shows p among the members of group id as display.
func shownAs(t *testing.T, n *testNode, id group.ID, p peer.ID, display string) GroupMember {
	t.Helper()
	var m GroupMember
	n.waitUntil(p.ShortString()+" shown as "+display, func() bool {
		m, _ = memberOf(t, n, id, p)
		return m.Display == display
	})
	return m
}

// befriend makes a and b contacts of each other, each naming the other
// (empty: by its profile name).
func befriend(t *testing.T, a, b *testNode, aCallsB, bCallsA string) {
	t.Helper()
	if _, err := a.AddContact(t.Context(), b.invite(), aCallsB); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddContact(t.Context(), a.invite(), bCallsA); err != nil {
		t.Fatal(err)
	}
}

// TestGroupMemberNames: in a private group, members who are not contacts
// of each other see one another by the profile names they announced in the
// group (sealed like every group message), in the members list and as the
// authors of lines; a contact goes by our name for them, with its
// verification; two keys with one name are told apart by the end of their
// peer IDs; a changed profile name reaches the group; after a removal and
// an addition (new epochs, which a newcomer reads from its first one only)
// everyone still shows by name and a former member's name is forgotten; a
// name with a control character, sealed and signed by a member, is dropped.
// Names are no lines of the thread and raise no unread count.
func TestGroupMemberNames(t *testing.T) {
	nodes := newGroupNodes(t, 5)
	alice, bob, carol, dave, erin := nodes[0], nodes[1], nodes[2], nodes[3], nodes[4]
	// Dave goes by Carol's name, in another case.
	for n, name := range map[*testNode]string{alice: "Alice", bob: "Bob", carol: "Carol", dave: "carol", erin: "Erin"} {
		if err := n.SetProfileName(name); err != nil {
			t.Fatal(err)
		}
	}
	if err := bob.SetProfileName("Bad\x1b[2J"); err == nil {
		t.Fatal("a profile name with a control character was taken")
	}
	// Alice knows everyone; the others know only Alice.
	befriend(t, alice, bob, "Bobby", "")
	befriend(t, alice, carol, "", "")
	befriend(t, alice, dave, "", "")
	befriend(t, alice, erin, "", "")
	if err := alice.SetVerified(bob.ID(), true); err != nil {
		t.Fatal(err)
	}
	f := newGroup(t, "friday", nodes[:4])
	id := f.id

	// Carol sees Bob by the name he announced; Bob tells Carol and Dave
	// apart; Carol sees herself as "you" and Dave marked.
	if m := shownAs(t, carol, id, bob.ID(), "Bob"); m.Name != "Bob" || m.Contact || m.Verified || m.Me || m.Role != group.RoleMember {
		t.Errorf("Carol sees Bob as %+v", m)
	}
	shownAs(t, bob, id, carol.ID(), "Carol ("+naming.Short(carol.ID())+")")
	shownAs(t, bob, id, dave.ID(), "carol ("+naming.Short(dave.ID())+")")
	shownAs(t, carol, id, dave.ID(), "carol ("+naming.Short(dave.ID())+")")
	if m, _ := memberOf(t, carol, id, carol.ID()); m.Display != "you" || !m.Me || m.Name != "Carol" {
		t.Errorf("Carol sees herself as %+v", m)
	}
	// Alice sees her contact by her name for him, verified, whatever he
	// announced; Bob sees Alice, his contact, by her profile name.
	if m := shownAs(t, alice, id, bob.ID(), "Bobby"); !m.Contact || !m.Verified || m.Me {
		t.Errorf("Alice sees Bob as %+v", m)
	}
	shownAs(t, bob, id, alice.ID(), "Alice")
	// The names are no lines of the thread and nothing unread.
	if ls := carol.groupLines(id); len(ls) != 0 {
		t.Errorf("Carol's thread holds %d lines before anyone wrote", len(ls))
	}
	if g, err := carol.Group(id); err != nil || g.Unread != 0 {
		t.Errorf("Carol's unread count %d, %v", g.Unread, err)
	}

	// Bob's line: Carol names its author.
	const friday = "who is in on Friday?"
	line, err := bob.GroupSend(t.Context(), id, GroupOutgoing{Body: friday})
	if err != nil {
		t.Fatal(err)
	}
	if line.From.Display != "you" || !line.From.Me {
		t.Errorf("Bob's own line is from %+v", line.From)
	}
	authorAt := func(n *testNode) string {
		l, ok := n.groupLine(id, line.ID)
		if !ok {
			return ""
		}
		return l.From.Display
	}
	carol.waitUntil("Bob's line at Carol, by name", func() bool { return authorAt(carol) == "Bob" })
	alice.waitUntil("Bob's line at Alice, by her name for him", func() bool { return authorAt(alice) == "Bobby" })
	if g, err := carol.Group(id); err != nil || g.Unread != 1 {
		t.Errorf("Carol's unread count %d, %v; want 1, Bob's line", g.Unread, err)
	}

	// Bob changes his profile name: Carol sees the new one, in the
	// members and on his line.
	if err := bob.SetProfileName("Robert"); err != nil {
		t.Fatal(err)
	}
	shownAs(t, carol, id, bob.ID(), "Robert")
	carol.waitUntil("Bob's line by his new name", func() bool { return authorAt(carol) == "Robert" })

	// Alice removes Dave, then adds Erin: two new epochs. Erin reads from
	// the second only, where everyone announced themselves again.
	e := alice.groupEpoch(id)
	if err := alice.RemoveGroupMember(t.Context(), id, dave.ID()); err != nil {
		t.Fatal(err)
	}
	f.members = []*testNode{alice, bob, carol}
	f.waitEpoch(e + 1)
	if err := alice.InviteToGroup(t.Context(), id, erin.ID()); err != nil {
		t.Fatal(err)
	}
	erin.waitUntil("the invitation", func() bool {
		g, err := erin.Group(id)
		return err == nil && g.State == storage.GroupInvited
	})
	if _, err := erin.AcceptGroupInvite(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	f.members = append(f.members, erin)
	f.waitEpoch(e + 2)
	shownAs(t, erin, id, bob.ID(), "Robert")
	shownAs(t, erin, id, carol.ID(), "Carol") // Dave, who went by her name, is gone
	shownAs(t, erin, id, alice.ID(), "Alice")
	shownAs(t, carol, id, erin.ID(), "Erin")
	shownAs(t, carol, id, bob.ID(), "Robert")
	shownAs(t, bob, id, carol.ID(), "Carol")
	// Carol forgot the name of Dave, no longer a member.
	carol.waitUntil("Dave's name forgotten", func() bool {
		var names []storage.GroupMemberName
		err := carol.store.View(func(tx *storage.Txn) (err error) { names, err = tx.GroupMemberNames(sid(id)); return err })
		return err == nil && !slices.ContainsFunc(names, func(n storage.GroupMemberName) bool { return n.Member == dave.ID() })
	})

	// A member signs a name with a control character: it is dropped. Bob's
	// next envelope of the newest epoch, sealed by hand and stored as his
	// own; Carol gets it through history sync.
	bad := bob.sealRaw(t, id, &groupspb.GroupContent{SentUnixNano: time.Now().UnixNano(),
		Body: &groupspb.GroupContent_Profile{Profile: &groupspb.GroupProfile{Name: "Robert\x1b[2J\x1b[31mAlice"}}})
	carol.waitUntil("Bob's bad name at Carol", func() bool {
		var held bool
		_ = carol.store.View(func(tx *storage.Txn) (err error) { held, err = tx.HasGroupEnvelope(sid(id), bad); return err })
		return held
	})
	if m, _ := memberOf(t, carol, id, bob.ID()); m.Display != "Robert" || m.Name != "Robert" {
		t.Errorf("after a bad name Carol shows Bob as %+v", m)
	}
	for _, l := range carol.groupLines(id) {
		if l.Kind == KindProfile || l.ID == bad {
			t.Errorf("Carol's thread holds a name: %+v", l)
		}
	}
}

// sealRaw seals gc as tn's next envelope of the group's newest epoch and
// stores it as sent, without applying it here: what a member whose node
// says anything would make. Members get it through history sync.
func (tn *testNode) sealRaw(t *testing.T, id group.ID, gc *groupspb.GroupContent) [32]byte {
	t.Helper()
	pt, err := proto.Marshal(gc)
	if err != nil {
		t.Fatal(err)
	}
	var mid [32]byte
	err = tn.store.Update(func(tx *storage.Txn) error {
		rs, err := tx.GroupRosters(sid(id))
		if err != nil || len(rs) == 0 {
			return errors.Join(err, errors.New("no roster"))
		}
		epoch := rs[len(rs)-1].Epoch
		b, err := tx.GroupSendChain(sid(id), epoch)
		if err != nil {
			return err
		}
		sc, err := group.UnmarshalSendChain(b, tn.id.Signing())
		if err != nil {
			return err
		}
		env, err := sc.Seal(pt)
		if err != nil {
			return err
		}
		if b, err = sc.MarshalBinary(); err != nil {
			return err
		}
		if err := tx.PutGroupSendChain(sid(id), epoch, b); err != nil {
			return err
		}
		data, err := env.MarshalBinary()
		if err != nil {
			return err
		}
		mid = env.Hash()
		_, err = tx.PutGroupEnvelope(storage.GroupEnvelope{Group: sid(id), Epoch: epoch, Sender: tn.ID(), Seq: env.Seq, ID: mid, Data: data, Received: time.Now(), Opened: true})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return mid
}

// The name a member announces in a group follows the profile names' rule:
// groups do not import the 1:1 code, so this holds the two together.
func TestGroupProfileNameRule(t *testing.T) {
	if content.MaxProfileNameBytes != contacts.MaxNameBytes {
		t.Errorf("a group announces names of up to %d bytes, profile names are up to %d", content.MaxProfileNameBytes, contacts.MaxNameBytes)
	}
	for _, name := range []string{"Bob", "Zoë 🙂", strings.Repeat("x", 64), strings.Repeat("x", 65), strings.Repeat("é", 33),
		"hi\x1b[2J", "two\nlines", "c1\u009b", "gnp\u202e.exe", "bad\xff"} {
		if group, profile := content.CheckProfileName(name) == nil, contacts.CheckName(name) == nil; group != profile {
			t.Errorf("%q: a group takes it %v, a profile %v", name, group, profile)
		}
	}
	if content.CheckProfileName("") == nil {
		t.Error("an empty name is announced")
	}
}
