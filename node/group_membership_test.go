package node

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/storage"
)

func (tn *testNode) latestRoster(id group.ID) *group.Roster {
	tn.t.Helper()
	var r *group.Roster
	err := tn.store.View(func(tx *storage.Txn) error {
		recs, err := tx.GroupRosters(sid(id))
		if err != nil {
			return err
		}
		if len(recs) == 0 {
			return fmt.Errorf("group %s: no roster", id)
		}
		r, err = group.UnmarshalRoster(recs[len(recs)-1].Data)
		return err
	})
	if err != nil {
		tn.t.Fatal(err)
	}
	return r
}

func (tn *testNode) groupState(id group.ID) storage.GroupState {
	g, err := tn.Group(id)
	if err != nil {
		return 0
	}
	return g.State
}

// waitSameRoster waits until the nodes agree on the newest roster, hold its
// key, and it lists exactly want.
func waitSameRoster(t *testing.T, id group.ID, nodes []*testNode, want ...*testNode) *group.Roster {
	t.Helper()
	var r *group.Roster
	same := func() bool {
		r = nodes[0].latestRoster(id)
		if len(r.Members) != len(want) {
			return false
		}
		for _, w := range want {
			if !r.IsMember(w.id.Public().Key) {
				return false
			}
		}
		for _, n := range nodes {
			g, err := n.Group(id)
			if err != nil || g.KeyWaited || n.latestRoster(id).Hash() != r.Hash() {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for !same() {
		if time.Now().After(deadline) {
			for _, n := range nodes {
				r := n.latestRoster(id)
				g, _ := n.Group(id)
				t.Logf("%s: %s, epoch %d, roster %s by %s, %d members, key waited %v", n.ID().ShortString(), g.State, r.Epoch,
					r.Hash().String()[:8], r.Signer.PeerID().ShortString(), len(r.Members), g.KeyWaited)
			}
			t.Fatal("timed out waiting for the same roster everywhere")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return r
}

// TestGroupMembership: an invitation shows in the inbox of a contact and in
// the requests of a stranger; the owner makes an admin, who adds members
// (one declines and is removed again) and removes one; a member who leaves
// is removed by the owner and the admin at once (a fork both resolve the
// same way); a rekey; and a restart keeps it all.
func TestGroupMembership(t *testing.T) {
	// useTCP: its peer restarts under the same key.
	useTCP(t)
	nodes := newGroupNodes(t, 5)
	owner, a, b, c, d := nodes[0], nodes[1], nodes[2], nodes[3], nodes[4]
	if _, err := b.AddContact(t.Context(), owner.invite(), "the owner"); err != nil {
		t.Fatal(err)
	}
	f := newGroup(t, "members", nodes[:3])
	inviteIn := func(cs []storage.Conversation) bool {
		return slices.ContainsFunc(cs, func(c storage.Conversation) bool { return c.Peer == owner.ID() })
	}
	if rs, _ := a.Requests(); !inviteIn(rs) {
		t.Error("the invitation from a stranger is not in a's requests")
	}
	if in, _ := b.Inbox(); !inviteIn(in) {
		t.Error("the invitation from a contact is not in b's inbox")
	}
	if ms, _ := a.Messages(owner.ID(), 10, time.Time{}); len(ms) != 1 || ms[0].Kind != KindGroupInvite || ms[0].Body != "members" {
		t.Errorf("a's thread with the owner: %+v", ms)
	}

	// The owner makes a an admin; a invites c and d; d declines.
	if err := a.GrantGroupAdmin(t.Context(), f.id, b.ID(), true); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("a member granted admin: %v", err)
	}
	if err := owner.GrantGroupAdmin(t.Context(), f.id, a.ID(), true); err != nil {
		t.Fatal(err)
	}
	waitSameRoster(t, f.id, nodes[:3], owner, a, b)
	if err := a.InviteToGroup(t.Context(), f.id, c.ID(), d.ID()); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{c, d} {
		n.waitUntil("the invitation", func() bool { return n.groupState(f.id) == storage.GroupInvited })
	}
	if _, err := c.AcceptGroupInvite(t.Context(), f.id); err != nil {
		t.Fatal(err)
	}
	if err := d.DeclineGroupInvite(f.id); err != nil {
		t.Fatal(err)
	}
	waitSameRoster(t, f.id, nodes[:4], owner, a, b, c)
	if d.groupState(f.id) != storage.GroupDeclined {
		t.Fatal("d's invitation is not declined")
	}

	// The admin removes b, but not the owner.
	if err := a.RemoveGroupMember(t.Context(), f.id, owner.ID()); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("an admin removed the owner: %v", err)
	}
	if err := a.RemoveGroupMember(t.Context(), f.id, b.ID()); err != nil {
		t.Fatal(err)
	}
	b.waitUntil("b removed", func() bool { return b.groupState(f.id) == storage.GroupRemoved })
	if _, err := b.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "am I in?"}); err == nil {
		t.Fatal("a removed member could still send")
	}
	waitSameRoster(t, f.id, []*testNode{owner, a, c}, owner, a, c)

	// c leaves: the owner and the admin both remove it.
	if err := c.LeaveGroup(t.Context(), f.id); err != nil {
		t.Fatal(err)
	}
	if c.groupState(f.id) != storage.GroupLeft {
		t.Fatal("c has not left")
	}
	waitSameRoster(t, f.id, []*testNode{owner, a}, owner, a)

	// A rekey; then a restart of the owner keeps the group.
	before := owner.groupEpoch(f.id)
	if err := owner.Rekey(t.Context(), f.id); err != nil {
		t.Fatal(err)
	}
	r := waitSameRoster(t, f.id, []*testNode{owner, a}, owner, a)
	if r.Epoch <= before {
		t.Fatalf("rekey left the epoch at %d", r.Epoch)
	}
	checkGroupChanges(t, owner, f.id, a.ID(), b.ID(), c.ID(), d.ID())
	home := owner.home
	owner.stop()
	again := newTestNode(t, home, fastGroups, withBootstrap(a.Addrs()[0].String()))
	m, err := again.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "back again"})
	if err != nil {
		t.Fatal(err)
	}
	if m.Epoch != r.Epoch {
		t.Fatalf("sent at epoch %d, want %d", m.Epoch, r.Epoch)
	}
	a.waitUntil("the line after the restart", func() bool { _, ok := a.groupLine(f.id, m.ID); return ok })
}

// TestGroupRosterFork: the owner and an admin change the roster at once
// (each removes someone else): two rosters for one epoch. Every node keeps
// the one with the lower hash, the loser's signer makes its change again on
// top, and the group ends without either removed member, agreeing on one
// roster and able to talk.
func TestGroupRosterFork(t *testing.T) {
	nodes := newGroupNodes(t, 5)
	f := newGroup(t, "fork", nodes)
	owner, admin, x, y, z := nodes[0], nodes[1], nodes[2], nodes[3], nodes[4]
	if err := owner.GrantGroupAdmin(t.Context(), f.id, admin.ID(), true); err != nil {
		t.Fatal(err)
	}
	base := waitSameRoster(t, f.id, nodes, nodes...)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = owner.RemoveGroupMember(t.Context(), f.id, x.ID()) }()
	go func() { defer wg.Done(); errs[1] = admin.RemoveGroupMember(t.Context(), f.id, y.ID()) }()
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	forked := owner.latestRoster(f.id).Epoch == base.Epoch+1 && admin.latestRoster(f.id).Epoch == base.Epoch+1 &&
		owner.latestRoster(f.id).Hash() != admin.latestRoster(f.id).Hash()
	t.Logf("the two changes forked: %v", forked)
	r := waitSameRoster(t, f.id, []*testNode{owner, admin, z}, owner, admin, z)
	t.Logf("settled at epoch %d (from %d)", r.Epoch, base.Epoch)
	for _, n := range []*testNode{x, y} {
		n.waitUntil("the removal", func() bool { return n.groupState(f.id) == storage.GroupRemoved })
	}
	m, err := z.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "after the fork"})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{owner, admin} {
		n.waitUntil("the line after the fork", func() bool { _, ok := n.groupLine(f.id, m.ID); return ok })
	}
}

func (tn *testNode) hasBody(id group.ID, body string) bool {
	for _, l := range tn.groupLines(id) {
		if l.Body == body {
			return true
		}
	}
	return false
}

// TestGroupKeyArrivesLate: a member away during a rekey comes back while
// the signer is away: it syncs the new roster and the envelopes of the new
// epoch from another member, keeps them unopened, and opens them when the
// signer returns and its outbox delivers the key.
func TestGroupKeyArrivesLate(t *testing.T) {
	// useTCP: its peer restarts under the same key.
	useTCP(t)
	nodes := newGroupNodes(t, 3)
	f := newGroup(t, "late key", nodes)
	owner, a, c := nodes[0], nodes[1], nodes[2]
	cHome, oHome := c.home, owner.home
	c.stop()
	if err := owner.Rekey(t.Context(), f.id); err != nil {
		t.Fatal(err)
	}
	epoch := owner.groupEpoch(f.id)
	f.members = []*testNode{owner, a}
	f.waitEpoch(epoch)
	const total = 10
	for i := range total {
		if _, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: fmt.Sprint("new epoch ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	owner.waitUntil("the lines at the owner", func() bool { return owner.hasBody(f.id, fmt.Sprint("new epoch ", total-1)) })
	owner.stop()

	back := newTestNode(t, cHome, fastGroups, withBootstrap(a.Addrs()[0].String()))
	back.waitUntil("the envelopes, unopened", func() bool {
		var held int
		_ = back.store.View(func(tx *storage.Txn) error {
			es, err := tx.UnopenedGroupEnvelopes(sid(f.id), epoch, 100)
			held = len(es)
			return err
		})
		return held >= total
	})
	if g, _ := back.Group(f.id); !g.KeyWaited || g.Epoch != epoch {
		t.Fatalf("back: epoch %d, waiting for the key %v", g.Epoch, g.KeyWaited)
	}
	if back.hasBody(f.id, "new epoch 0") {
		t.Fatal("read a line without its key")
	}
	if _, err := back.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "too early"}); !errors.Is(err, ErrKeyPending) {
		t.Fatalf("sending without the key: %v", err)
	}
	newTestNode(t, oHome, fastGroups, withBootstrap(a.Addrs()[0].String())) // its outbox holds the key
	back.waitUntil("every line of the new epoch", func() bool {
		for i := range total {
			if !back.hasBody(f.id, fmt.Sprint("new epoch ", i)) {
				return false
			}
		}
		return true
	})
}

// TestGroupNewMemberHistory: a member added later reads the group from the
// epoch that added it, not before.
func TestGroupNewMemberHistory(t *testing.T) {
	nodes := newGroupNodes(t, 3)
	f := newGroup(t, "history", nodes[:2])
	owner, a, late := nodes[0], nodes[1], nodes[2]
	if _, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "before you came"}); err != nil {
		t.Fatal(err)
	}
	owner.waitUntil("the first line", func() bool { return owner.hasBody(f.id, "before you came") })
	if err := owner.InviteToGroup(t.Context(), f.id, late.ID()); err != nil {
		t.Fatal(err)
	}
	f.waitEpoch(owner.groupEpoch(f.id))
	after, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "after you came"})
	if err != nil {
		t.Fatal(err)
	}
	late.waitUntil("the invitation", func() bool { return late.groupState(f.id) == storage.GroupInvited })
	if _, err := late.AcceptGroupInvite(t.Context(), f.id); err != nil {
		t.Fatal(err)
	}
	late.waitUntil("the line after the invitation", func() bool { _, ok := late.groupLine(f.id, after.ID); return ok })
	// By now a sync has run; the earlier epoch stays unknown to it.
	late.waitUntil("a sync round", func() bool {
		m, err := late.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "hello all"})
		if err != nil {
			t.Fatal(err)
		}
		_, ok := owner.groupLine(f.id, m.ID)
		return ok
	})
	if late.hasBody(f.id, "before you came") {
		t.Fatal("the new member read a line from before it was added")
	}
}

// checkGroupChanges: the owner's roster changes tell the story of
// TestGroupMembership: a made an admin; c and d added by a; b removed by
// a; c and d gone (d's decline and b's removal may come in either order);
// and nothing for the rekey.
func checkGroupChanges(t *testing.T, owner *testNode, id group.ID, a, b, c, d peer.ID) {
	t.Helper()
	cs, err := owner.GroupChanges(id)
	if err != nil {
		t.Fatal(err)
	}
	var story []string
	for i, ch := range cs {
		if i > 0 && ch.Epoch <= cs[i-1].Epoch {
			t.Errorf("change of epoch %d after epoch %d", ch.Epoch, cs[i-1].Epoch)
		}
		if ch.Epoch == owner.groupEpoch(id) {
			t.Errorf("the rekey (epoch %d) is listed as a change: %+v", ch.Epoch, ch)
		}
		if slices.Equal(ch.Admins, []peer.ID{a}) {
			story = append(story, "a admin")
		}
		if slices.Contains(ch.Added, c) && slices.Contains(ch.Added, d) && ch.Signer == a {
			story = append(story, "c, d added by a")
		}
		if slices.Equal(ch.Removed, []peer.ID{b}) && ch.Signer == a {
			story = append(story, "b removed by a")
		}
		for _, p := range ch.Removed {
			if p == c || p == d {
				story = append(story, "c or d gone")
			}
		}
	}
	want := []string{"a admin", "b removed by a", "c or d gone", "c or d gone", "c, d added by a"}
	slices.Sort(story)
	if !slices.Equal(story, want) {
		t.Errorf("changes %+v\ntell %q, want %q", cs, story, want)
	}
}
