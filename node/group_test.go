package node

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/storage"
)

func sid(id group.ID) storage.GroupID { return storage.GroupID(id) }

func fastGroups(c *Config) {
	c.PubSubHeartbeat = 50 * time.Millisecond
	c.GroupSyncInterval = 200 * time.Millisecond
	c.GroupReceiptDelay = 100 * time.Millisecond
}

// groupFixture is a group whose owner invited the others, who all accepted
// and hold the key of the newest epoch.
type groupFixture struct {
	t       *testing.T
	id      group.ID
	owner   *testNode
	members []*testNode // the owner first
}

// newGroupNodes starts n nodes that know one bootstrap node.
func newGroupNodes(t *testing.T, n int, mod ...func(*Config)) []*testNode {
	t.Helper()
	boot := newTestNode(t, "", fastGroups)
	mods := append([]func(*Config){fastGroups, withBootstrap(boot.Addrs()[0].String())}, mod...)
	var out []*testNode
	for range n {
		out = append(out, newTestNode(t, "", mods...))
	}
	return out
}

// newGroup makes nodes[0] create a group, invite the others at once, and
// waits until every one has accepted and holds the newest key.
func newGroup(t *testing.T, name string, nodes []*testNode) *groupFixture {
	t.Helper()
	owner := nodes[0]
	info, err := owner.CreateGroup(t.Context(), name)
	if err != nil {
		t.Fatal(err)
	}
	f := &groupFixture{t: t, id: info.ID, owner: owner, members: nodes}
	var peers []peer.ID
	for _, n := range nodes[1:] {
		peers = append(peers, n.ID())
	}
	if len(peers) > 0 {
		if err := owner.InviteToGroup(t.Context(), info.ID, peers...); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range nodes[1:] {
		n.waitUntil("the invitation", func() bool {
			g, err := n.Group(info.ID)
			return err == nil && g.State == storage.GroupInvited
		})
		if _, err := n.AcceptGroupInvite(t.Context(), info.ID); err != nil {
			t.Fatal(err)
		}
	}
	f.waitEpoch(owner.groupEpoch(info.ID))
	return f
}

// groupEpoch is the newest epoch n knows of the group.
func (tn *testNode) groupEpoch(id group.ID) uint64 {
	tn.t.Helper()
	g, err := tn.Group(id)
	if err != nil {
		tn.t.Fatal(err)
	}
	return g.Epoch
}

// waitEpoch waits until every member holds the key of epoch e.
func (f *groupFixture) waitEpoch(e uint64) {
	f.t.Helper()
	for _, n := range f.members {
		n.waitUntil(fmt.Sprint("the key of epoch ", e), func() bool {
			g, err := n.Group(f.id)
			return err == nil && g.Epoch == e && !g.KeyWaited
		})
	}
}

// countLines counts, per message ID, the group's lines a node stored.
func (tn *testNode) groupLines(id group.ID) []GroupMessage {
	tn.t.Helper()
	ms, err := tn.GroupMessages(id, 10000, time.Time{})
	if err != nil {
		tn.t.Fatal(err)
	}
	return ms
}

// eventCounter counts group message events per message on one node.
type eventCounter struct {
	mu   sync.Mutex
	seen map[[32]byte]int
}

func countGroupEvents(tn *testNode) *eventCounter {
	c := &eventCounter{seen: map[[32]byte]int{}}
	ev, cancel := tn.Subscribe()
	tn.t.Cleanup(cancel)
	go func() { // ends when cancel (or Close) closes the channel
		for e := range ev {
			if e.Type == EventGroupMessage && e.Group != nil && e.Group.Kind == KindText {
				c.mu.Lock()
				c.seen[e.Group.Message]++
				c.mu.Unlock()
			}
		}
	}()
	return c
}

// TestGroupEightMembers: an owner and seven invited members; each sends
// five messages; every member ends with every message exactly once (stored
// once, one event each), authored by who sent it. The topic names neither
// the group's ID nor its name, and another secret gives another topic.
func TestGroupEightMembers(t *testing.T) {
	nodes := newGroupNodes(t, 8)
	counters := make([]*eventCounter, len(nodes))
	for i, n := range nodes {
		counters[i] = countGroupEvents(n)
	}
	f := newGroup(t, "Secret supper club", nodes)

	topic, ok := f.owner.groups.Topic(f.id)
	if !ok {
		t.Fatal("the owner's group is not live")
	}
	if strings.Contains(topic, f.id.String()) || strings.Contains(strings.ToLower(topic), "supper") {
		t.Fatalf("topic %q names the group", topic)
	}
	for _, b := range [][]byte{f.id[:]} {
		if strings.Contains(topic, string(b)) {
			t.Fatalf("topic %q holds the raw group ID", topic)
		}
	}
	_, other := group.NewGroup()
	if other.Topic() == topic || !strings.HasPrefix(topic, group.TopicPrefix) {
		t.Fatalf("topic %q: want a prefix %q and a different topic for another secret", topic, group.TopicPrefix)
	}

	const per = 5
	want := map[[32]byte]peer.ID{}
	for i, n := range nodes {
		for j := range per {
			m, err := n.GroupSend(t.Context(), f.id, GroupOutgoing{Body: fmt.Sprintf("message %d from %d", j, i)})
			if err != nil {
				t.Fatal(err)
			}
			want[m.ID] = n.ID()
		}
	}
	for i, n := range nodes {
		n.waitUntil("every message", func() bool { return len(n.groupLines(f.id)) >= len(want) })
		lines := n.groupLines(f.id)
		got := map[[32]byte]int{}
		for _, m := range lines {
			got[m.ID]++
			if author, ok := want[m.ID]; !ok || author != m.Sender {
				t.Fatalf("member %d: line %x from %s is not one sent", i, m.ID[:4], m.Sender)
			}
			if m.Outbound != (m.Sender == n.ID()) {
				t.Fatalf("member %d: line %x outbound=%v", i, m.ID[:4], m.Outbound)
			}
		}
		for id := range want {
			if got[id] != 1 {
				t.Fatalf("member %d stored message %x %d times", i, id[:4], got[id])
			}
		}
		if len(lines) != len(want) {
			t.Fatalf("member %d has %d lines, want %d", i, len(lines), len(want))
		}
		c := counters[i]
		n.waitUntil("an event per message", func() bool {
			c.mu.Lock()
			defer c.mu.Unlock()
			return len(c.seen) == len(want)
		})
		c.mu.Lock()
		for id, k := range c.seen {
			if k != 1 {
				t.Errorf("member %d: %d events for message %x", i, k, id[:4])
			}
		}
		c.mu.Unlock()
	}
	// Everyone's receipts reach the authors: each line ends delivered to
	// the seven others.
	for _, n := range nodes {
		n.waitUntil("receipts from everyone", func() bool {
			for _, m := range n.groupLines(f.id) {
				if len(m.DeliveredTo) != len(nodes)-1 {
					return false
				}
			}
			return true
		})
	}
}

// TestGroupOfflineMemberCatchesUp: a member is stopped while another sends
// 200 messages; the author then goes offline too. Restarted, the member
// gets all 200 from the others, each envelope verified as the author's.
func TestGroupOfflineMemberCatchesUp(t *testing.T) {
	// useTCP: its peer restarts under the same key.
	useTCP(t)
	nodes := newGroupNodes(t, 4)
	f := newGroup(t, "catch up", nodes)
	author, helper, away := nodes[1], nodes[2], nodes[3]
	home := away.home
	away.stop()

	const total = 200
	for i := range total {
		if _, err := author.GroupSend(t.Context(), f.id, GroupOutgoing{Body: fmt.Sprint("while you were away ", i)}); err != nil {
			t.Fatal(err)
		}
	}
	fromAuthor := func(n *testNode) int {
		c := 0
		for _, l := range n.groupLines(f.id) {
			if l.Sender == author.ID() {
				c++
			}
		}
		return c
	}
	helper.waitUntil("the 200 lines at the helper", func() bool { return fromAuthor(helper) == total })
	author.stop()

	back := newTestNode(t, home, fastGroups, withBootstrap(helper.Addrs()[0].String()))
	back.waitUntil("the 200 lines after the restart", func() bool { return fromAuthor(back) == total })
	authorKey := author.id.Public().Key
	if err := back.store.View(func(tx *storage.Txn) error {
		for _, l := range back.groupLines(f.id) {
			if l.Sender != author.ID() {
				continue
			}
			se, err := tx.GroupEnvelopeByID(sid(f.id), l.ID)
			if err != nil {
				return err
			}
			e, err := group.UnmarshalEnvelope(se.Data)
			if err != nil {
				return err
			}
			if err := e.VerifySignature(); err != nil || e.Sender != authorKey || e.Hash() != l.ID {
				return fmt.Errorf("line %x: signature %v, sender %s", l.ID[:4], err, e.Sender.PeerID())
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if author.life.Context().Err() == nil {
		t.Fatal("the author was still running")
	}
}

func (tn *testNode) groupLine(id group.ID, mid [32]byte) (GroupMessage, bool) {
	for _, l := range tn.groupLines(id) {
		if l.ID == mid {
			return l, true
		}
	}
	return GroupMessage{}, false
}

// TestGroupThread: replies, reactions, an event with RSVPs (a later answer
// replaces an earlier one), a rename by the owner (refused to a member), and
// read state: every member sees who read what.
func TestGroupThread(t *testing.T) {
	nodes := newGroupNodes(t, 3)
	f := newGroup(t, "thread", nodes)
	hello := threadNotes(t, f, nodes)
	threadRename(t, f, nodes)
	threadReadState(t, f, nodes, hello)
}

// threadNotes: a reply, a reaction, an event and RSVPs, seen by everyone.
// It returns the first message's ID.
func threadNotes(t *testing.T, f *groupFixture, nodes []*testNode) [32]byte {
	owner, a, b := nodes[0], nodes[1], nodes[2]
	hello, err := owner.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	a.waitUntil("hello", func() bool { _, ok := a.groupLine(f.id, hello.ID); return ok })
	reply, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "hi back", ReplyTo: hello.ID})
	if err != nil || reply.Kind != KindReply || reply.ReplyTo != hello.ID {
		t.Fatalf("reply: %+v, %v", reply, err)
	}
	b.waitUntil("hello", func() bool { _, ok := b.groupLine(f.id, hello.ID); return ok })
	if _, err := b.GroupSend(t.Context(), f.id, GroupOutgoing{Kind: KindReaction, Body: "👍", ReplyTo: hello.ID}); err != nil {
		t.Fatal(err)
	}
	start := time.Now().Add(48 * time.Hour).Truncate(time.Second).UTC()
	picnic, err := owner.GroupSend(t.Context(), f.id, GroupOutgoing{Kind: KindEvent, Body: "Picnic", Start: start})
	if err != nil || picnic.Kind != KindEvent || !picnic.EventStart.Equal(start) {
		t.Fatalf("event: %+v, %v", picnic, err)
	}
	for _, n := range []*testNode{a, b} {
		n.waitUntil("the event", func() bool { _, ok := n.groupLine(f.id, picnic.ID); return ok })
	}
	if _, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Kind: KindRSVP, Body: RSVPYes, ReplyTo: picnic.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.GroupSend(t.Context(), f.id, GroupOutgoing{Kind: KindRSVP, Body: RSVPMaybe, ReplyTo: picnic.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Kind: KindRSVP, Body: RSVPNo, ReplyTo: picnic.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Kind: KindRSVP, Body: "perhaps", ReplyTo: picnic.ID}); !errors.Is(err, ErrInvalidGroup) {
		t.Fatalf("RSVP perhaps: %v", err)
	}
	if _, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Kind: KindRSVP, Body: RSVPYes, ReplyTo: hello.ID}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("RSVP to a line that is no event: %v", err)
	}
	for _, n := range nodes {
		n.waitUntil("the reaction and the answers", func() bool { return notesSeen(n, f.id, a, b, hello.ID, reply.ID, picnic.ID) })
	}
	return hello.ID
}

// notesSeen: n holds the reply to hello, b's reaction on hello, and the
// latest answers of a (no) and b (maybe) to picnic.
func notesSeen(n *testNode, id group.ID, a, b *testNode, hello, reply, picnic [32]byte) bool {
	h, ok1 := n.groupLine(id, hello)
	p, ok2 := n.groupLine(id, picnic)
	r, ok3 := n.groupLine(id, reply)
	if !ok1 || !ok2 || !ok3 || r.ReplyTo != hello || len(h.Reactions) != 1 || h.Reactions[0].Emoji != "👍" || h.Reactions[0].Peer != b.ID() {
		return false
	}
	answers := map[peer.ID]string{}
	for _, x := range p.RSVPs {
		answers[x.Peer] = x.Answer
	}
	return len(answers) == 2 && answers[a.ID()] == RSVPNo && answers[b.ID()] == RSVPMaybe
}

func threadRename(t *testing.T, f *groupFixture, nodes []*testNode) {
	owner, a, b := nodes[0], nodes[1], nodes[2]
	// Renames: a member may not; the owner may, and everyone follows.
	if err := a.RenameGroup(t.Context(), f.id, "mine now"); !errors.Is(err, ErrNotAllowed) {
		t.Fatalf("a member renamed the group: %v", err)
	}
	if err := owner.RenameGroup(t.Context(), f.id, "thread, renamed"); err != nil {
		t.Fatal(err)
	}
	for _, n := range nodes {
		n.waitUntil("the new name", func() bool {
			g, err := n.Group(f.id)
			return err == nil && g.Name == "thread, renamed"
		})
	}
	if id, err := b.ResolveGroup("thread, renamed"); err != nil || id != f.id {
		t.Fatalf("ResolveGroup by the new name: %v, %v", id, err)
	}
}

func threadReadState(t *testing.T, f *groupFixture, nodes []*testNode, hello [32]byte) {
	owner, a, b := nodes[0], nodes[1], nodes[2]
	// Read state: b reads; the owner sees b among the readers of hello.
	b.waitUntil("everything at b", func() bool { return len(b.groupLines(f.id)) == len(owner.groupLines(f.id)) })
	if g, _ := b.Group(f.id); g.Unread == 0 {
		t.Fatal("b has nothing unread")
	}
	if err := b.MarkGroupRead(f.id); err != nil {
		t.Fatal(err)
	}
	if g, _ := b.Group(f.id); g.Unread != 0 {
		t.Fatalf("b has %d unread after reading", g.Unread)
	}
	owner.waitUntil("b's read receipt", func() bool {
		h, _ := owner.groupLine(f.id, hello)
		return slices.Contains(h.ReadBy, b.ID()) && !slices.Contains(h.ReadBy, a.ID()) && slices.Contains(h.DeliveredTo, a.ID())
	})
}

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
