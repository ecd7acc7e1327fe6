package node

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/node/groups"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/internal/msgid"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// rawGroupPeer is a bare libp2p host with a GossipSub router that accepts
// anything on a group's topic and records what it receives: an eavesdropper,
// an attacker, or an observer of what honest nodes forward.
type rawGroupPeer struct {
	t     *testing.T
	id    identity.Identity
	topic *pubsub.Topic
	gater *LoopbackGater
	host  interface {
		Connect(context.Context, peer.AddrInfo) error
		ID() peer.ID
	}

	mu  sync.Mutex
	got []*group.Envelope
}

func newRawGroupPeer(t *testing.T, id identity.Identity, topic string) *rawGroupPeer {
	t.Helper()
	g := &LoopbackGater{}
	h, err := newTestHost(t, id.Signing().Libp2p(), g)
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pubsub.New(context.Background(), pubsub.Config{Host: h, Heartbeat: 50 * time.Millisecond, MessageID: topicMessageID})
	if err != nil {
		t.Fatal(err)
	}
	tp, err := ps.Join(topic, func(context.Context, peer.ID, []byte) pubsub.Result { return pubsub.Accept })
	if err != nil {
		t.Fatal(err)
	}
	rp := &rawGroupPeer{t: t, id: id, topic: tp, gater: g, host: h}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m := range tp.Messages() {
			if e, err := group.UnmarshalEnvelope(m.Data); err == nil && !m.Local {
				rp.mu.Lock()
				rp.got = append(rp.got, e)
				rp.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() {
		ps.Close()
		<-done
		h.Close()
		if g.Refused() != 0 {
			t.Errorf("raw group peer's gater refused %d dials", g.Refused())
		}
	})
	return rp
}

// topicMessageID is the node's message ID function, for raw peers.
var topicMessageID = msgid.Of

func (rp *rawGroupPeer) connect(n *testNode) {
	rp.t.Helper()
	if err := rp.host.Connect(context.Background(), peer.AddrInfo{ID: n.ID(), Addrs: n.net.Host().Addrs()}); err != nil {
		rp.t.Fatal(err)
	}
}

func (rp *rawGroupPeer) received(match func(*group.Envelope) bool) []*group.Envelope {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	var out []*group.Envelope
	for _, e := range rp.got {
		if match(e) {
			out = append(out, e)
		}
	}
	return out
}

// warm sends lines from n until one reaches rp: the path from n to rp
// through the mesh works.
func (rp *rawGroupPeer) warm(n *testNode, id group.ID) {
	rp.t.Helper()
	for range 100 {
		m, err := n.GroupSend(rp.t.Context(), id, GroupOutgoing{Body: "warm-up"})
		if err != nil {
			rp.t.Fatal(err)
		}
		for range 20 {
			if len(rp.received(func(e *group.Envelope) bool { return e.Hash() == m.ID })) > 0 {
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	rp.t.Fatal("no line reached the raw peer")
}

// publish sends data on the topic, waiting at most a second for a mesh.
func (rp *rawGroupPeer) publish(data []byte) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return rp.topic.Publish(ctx, data)
}

func (tn *testNode) epochKey(id group.ID, epoch uint64) group.GroupKey {
	tn.t.Helper()
	var gk group.GroupKey
	err := tn.store.View(func(tx *storage.Txn) error {
		b, err := tx.GroupEpochKey(sid(id), epoch)
		if err != nil {
			return err
		}
		gk, err = group.UnmarshalGroupKey(b)
		return err
	})
	if err != nil {
		tn.t.Fatal(err)
	}
	return gk
}

func (tn *testNode) rejected(id group.ID) int64 {
	return tn.groups.Rejected(id)
}

func mustEnc(t *testing.T, e *group.Envelope) []byte {
	t.Helper()
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestGroupRemovedMemberLockedOut: a removed member that keeps its old keys
// and stays subscribed to the topic (a raw GossipSub peer with its identity)
// reads nothing of the next epoch, and what it sends at the new epoch is
// rejected by the members next to it and never reaches a peer behind them.
func TestGroupRemovedMemberLockedOut(t *testing.T) {
	// useTCP: raw GossipSub peers whose mesh timing the test was written for.
	useTCP(t)
	nodes := newGroupNodes(t, 4)
	f := newGroup(t, "locked", nodes)
	owner, a, b, m := nodes[0], nodes[1], nodes[2], nodes[3]
	e0 := owner.groupEpoch(f.id)
	oldKey := m.epochKey(f.id, e0)
	topic, _ := owner.groups.Topic(f.id)

	// m is removed while it is away; its stand-in keeps its identity and
	// keys and stays on the topic, next to a and b.
	mID := m.id
	m.stop()
	if err := owner.RemoveGroupMember(t.Context(), f.id, m.ID()); err != nil {
		t.Fatal(err)
	}
	f.members = nodes[:3]
	f.waitEpoch(e0 + 1)
	if owner.groupEpoch(f.id) != e0+1 {
		t.Fatal("no new epoch")
	}
	evil := newRawGroupPeer(t, mID, topic)
	evil.connect(a)
	evil.connect(b)
	observer := newRawGroupPeer(t, identity.New(), topic) // behind the owner only
	observer.connect(owner)
	observer.warm(owner, f.id)

	// Members keep talking; the stand-in receives their envelopes and can
	// open none of them, with the old key as it is or relabelled.
	mKey := mID.Public().Key
	atNew := func(e *group.Envelope) bool { return e.Epoch == e0+1 && e.Sender != mKey }
	for i := 0; len(evil.received(atNew)) == 0; i++ {
		if i == 200 {
			t.Fatal("the stand-in never received an envelope of the new epoch")
		}
		if _, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "not for m"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	relabelled := group.GroupKey{Group: f.id, Epoch: e0 + 1, Key: oldKey.Key}
	for _, e := range evil.received(atNew) {
		for _, gk := range []group.GroupKey{oldKey, relabelled} {
			rc, err := group.NewReceiveChain(gk, e.Sender)
			if err != nil {
				t.Fatal(err)
			}
			for seq := uint64(0); seq <= e.Seq; seq++ { // the chain may need to skip ahead
				if pt, err := rc.Open(e); err == nil {
					t.Fatalf("the removed member read %q", pt)
				}
			}
		}
	}

	// The stand-in writes at the new epoch with what it has: rejected by a
	// and b, not forwarded to the observer behind the owner.
	sc, err := group.NewSendChain(relabelled, mID.Signing())
	if err != nil {
		t.Fatal(err)
	}
	before := a.rejected(f.id) + b.rejected(f.id)
	for i := range 5 {
		e, err := sc.Seal([]byte("still here " + string(rune('0'+i))))
		if err != nil {
			t.Fatal(err)
		}
		if err := evil.publish(mustEnc(t, e)); err != nil {
			break // scoring may already have pushed it out of the mesh
		}
	}
	a.waitUntil("a member to reject the removed member's envelopes", func() bool {
		return a.rejected(f.id)+b.rejected(f.id) > before
	})
	// A line from a, sent after the forgeries, reaches the observer: by
	// then the forgeries had every chance to.
	marker, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "marker"})
	if err != nil {
		t.Fatal(err)
	}
	owner.waitUntil("the marker at the observer", func() bool {
		return len(observer.received(func(e *group.Envelope) bool { return e.Hash() == marker.ID })) > 0
	})
	if got := observer.received(func(e *group.Envelope) bool { return e.Sender == mKey }); len(got) > 0 {
		t.Fatalf("the observer got %d envelopes of the removed member", len(got))
	}
	for _, n := range nodes[:3] {
		for _, l := range n.groupLines(f.id) {
			if l.Sender == m.ID() && l.Epoch > e0 {
				t.Fatalf("%s stored a line of the removed member at epoch %d", n.ID().ShortString(), l.Epoch)
			}
		}
	}
}

// TestGroupRejectsForgeries: an envelope signed by a non-member, a
// tampered envelope and one replayed from another group are rejected by the
// member's validator and not forwarded; a forged roster sent over 1:1 (a
// tampered one, and one a plain member signed on a chain of its own) is not
// adopted.
func TestGroupRejectsForgeries(t *testing.T) {
	nodes := newGroupNodes(t, 3)
	f := newGroup(t, "guarded", nodes)
	owner, a, b := nodes[0], nodes[1], nodes[2]
	topic, _ := a.groups.Topic(f.id)
	// A second group with a, whose envelope will be replayed in the first.
	f2 := newGroup(t, "other", []*testNode{owner, a})
	other, err := a.GroupSend(t.Context(), f2.id, GroupOutgoing{Body: "in the other group"})
	if err != nil {
		t.Fatal(err)
	}
	var replayed []byte
	if err := a.store.View(func(tx *storage.Txn) error {
		e, err := tx.GroupEnvelopeByID(sid(f2.id), other.ID)
		replayed = e.Data
		return err
	}); err != nil {
		t.Fatal(err)
	}
	genuine, err := b.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "genuine"})
	if err != nil {
		t.Fatal(err)
	}
	var tampered []byte
	if err := b.store.View(func(tx *storage.Txn) error {
		e, err := tx.GroupEnvelopeByID(sid(f.id), genuine.ID)
		if err != nil {
			return err
		}
		env, err := group.UnmarshalEnvelope(e.Data)
		if err != nil {
			return err
		}
		env.Ciphertext[0] ^= 1
		tampered, err = env.MarshalBinary()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mallory := identity.New()
	gk := a.epochKey(f.id, a.groupEpoch(f.id))
	sc, err := group.NewSendChain(gk, mallory.Signing()) // even with the key: not a member
	if err != nil {
		t.Fatal(err)
	}
	outsider, err := sc.Seal([]byte("hello from outside"))
	if err != nil {
		t.Fatal(err)
	}
	attacks := []attack{
		{"signed by a non-member", mustEnc(t, outsider)},
		{"tampered", tampered},
		{"replayed from another group", replayed},
		{"garbage", []byte("not an envelope")},
	}
	validatorRejects(t, a, f.id, mallory, outsider, attacks)

	// Over the network: mallory next to a, an observer behind the owner.
	evil := newRawGroupPeer(t, mallory, topic)
	evil.connect(a)
	observer := newRawGroupPeer(t, identity.New(), topic)
	observer.connect(owner)
	observer.warm(a, f.id)
	before := a.rejected(f.id)
	for _, at := range attacks {
		if err := evil.publish(at.data); err != nil {
			break
		}
	}
	a.waitUntil("a to reject the forgeries", func() bool { return a.rejected(f.id) > before })
	marker, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "marker"})
	if err != nil {
		t.Fatal(err)
	}
	owner.waitUntil("the marker at the observer", func() bool {
		return len(observer.received(func(e *group.Envelope) bool { return e.Hash() == marker.ID })) > 0
	})
	if got := observer.received(func(e *group.Envelope) bool {
		tamper := e.Sender == b.id.Public().Key && e.Epoch == genuine.Epoch && e.Seq == genuine.Seq && e.Hash() != genuine.ID
		return e.Sender == mallory.Public().Key || e.Group != f.id || tamper
	}); len(got) > 0 {
		t.Fatalf("the observer got %d forged envelopes", len(got))
	}
	for _, n := range nodes {
		for _, l := range n.groupLines(f.id) {
			if l.Body != "genuine" && l.Body != "marker" && l.Body != "warm-up" {
				t.Fatalf("%s stored %q", n.ID().ShortString(), l.Body)
			}
		}
	}

	forgedRostersIgnored(t, f, owner, a, b, mallory)
}

// attack is a forged envelope.
type attack struct {
	name string
	data []byte
}

// validatorRejects: a's validator rejects every attack, and ignores an
// envelope of a far unknown epoch.
func validatorRejects(t *testing.T, a *testNode, id group.ID, mallory identity.Identity, outsider *group.Envelope, attacks []attack) {
	v := func(ctx context.Context, from peer.ID, data []byte) pubsub.Result {
		res, ok := a.groups.Validate(ctx, id, from, data)
		if !ok {
			t.Fatal("a's group is not live")
		}
		return res
	}
	for _, at := range attacks {
		if got := v(t.Context(), mallory.Public().Key.PeerID(), at.data); got != pubsub.Reject {
			t.Errorf("%s: validator says %s, want reject", at.name, got)
		}
	}
	future := *outsider
	future.Epoch += 1000
	if got := v(t.Context(), mallory.Public().Key.PeerID(), mustEnc(t, &future)); got != pubsub.Ignore {
		t.Errorf("an unknown far epoch: validator says %s, want ignore", got)
	}
}

// forgedRostersIgnored: forged rosters over 1:1, both sent by their
// claimed signers: a tampered roster of the owner's adding mallory, and a
// roster that b (a plain member) signed on a chain it made up. a takes
// neither.
func forgedRostersIgnored(t *testing.T, f *groupFixture, owner, a, b *testNode, mallory identity.Identity) {
	epoch := a.groupEpoch(f.id)
	var latest *group.Roster
	if err := owner.store.View(func(tx *storage.Txn) error {
		b, err := tx.GroupRoster(sid(f.id), epoch)
		if err == nil {
			latest, err = group.UnmarshalRoster(b)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tamperedRoster := *latest
	tamperedRoster.Epoch++
	tamperedRoster.PrevHash = latest.Hash()
	tamperedRoster.Members = append(append([]group.Member(nil), latest.Members...), group.Member{Key: mallory.Public().Key, Role: group.RoleMember})
	sortMembers(tamperedRoster.Members)
	fake0, err := group.Genesis(b.id.Signing(), f.id, []group.Member{{Key: b.id.Public().Key, Role: group.RoleOwner}})
	if err != nil {
		t.Fatal(err)
	}
	fake := fake0
	for fake.Epoch <= epoch {
		if fake, err = fake.Next(b.id.Signing(), append(latest.Members[:0:0], group.Member{Key: b.id.Public().Key, Role: group.RoleOwner},
			group.Member{Key: mallory.Public().Key, Role: group.RoleMember})); err != nil {
			t.Fatal(err)
		}
	}
	sendKey := func(from *testNode, r *group.Roster) {
		rb, err := r.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		kb, err := group.GroupKey{Group: f.id, Epoch: r.Epoch, Key: group.NewEpochKey()}.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		data, err := proto.Marshal(&groupspb.GroupKey{Key: kb, Roster: rb})
		if err != nil {
			t.Fatal(err)
		}
		if err := from.store.Update(func(tx *storage.Txn) error {
			return groupChats{from.dm}.Queue(tx, a.ID(), groups.ControlKey, data)
		}); err != nil {
			t.Fatal(err)
		}
		groupChats{from.dm}.Kick([]peer.ID{a.ID()})
		from.waitUntil("the forged key delivered", func() bool {
			var es []storage.OutboxEntry
			_ = from.store.View(func(tx *storage.Txn) error {
				var err error
				es, err = tx.Outbox(a.ID())
				return err
			})
			return len(es) == 0
		})
	}
	sendKey(owner, &tamperedRoster)
	sendKey(b, fake)
	g, err := a.Group(f.id)
	if err != nil {
		t.Fatal(err)
	}
	if g.Epoch != epoch || g.Members != len(latest.Members) {
		t.Fatalf("a took a forged roster: epoch %d with %d members", g.Epoch, g.Members)
	}
	if _, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "still at the same epoch"}); err != nil {
		t.Fatalf("a cannot send after the forgeries: %v", err)
	}
	if errors.Is(err, ErrKeyPending) {
		t.Fatal("a waits for a forged epoch's key")
	}
}

func sortMembers(ms []group.Member) {
	for i := range ms {
		for j := i + 1; j < len(ms); j++ {
			if string(ms[j].Key[:]) < string(ms[i].Key[:]) {
				ms[i], ms[j] = ms[j], ms[i]
			}
		}
	}
}
