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
