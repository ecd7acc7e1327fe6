package node

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/groups"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// rawGossipPeer is a bare libp2p host that speaks GossipSub's wire protocol
// by hand, with none of the node's rules: an eavesdropper or an attacker
// next to a member. It records every RPC members send it, and writes RPCs
// of its own making (subscriptions, messages) straight to a member.
type rawGossipPeer struct {
	t       *testing.T
	host    host.Host
	streams map[peer.ID]network.Stream // ours to each member
	readers sync.WaitGroup
	closed  bool                        // under mu: no more readers start
	inbound map[network.Stream]struct{} // under mu: the members' streams being read

	mu      sync.Mutex
	heard   []string // every topic named in an RPC it received
	grafted bool
	frames  int      // messages it received on any group topic
	data    [][]byte // their bytes, as they came on the wire
}

func newRawGossipPeer(t *testing.T, id identity.Identity) *rawGossipPeer {
	t.Helper()
	g := &LoopbackGater{}
	h, err := newTestHost(t, id.Signing().Libp2p(), g)
	if err != nil {
		t.Fatal(err)
	}
	rp := &rawGossipPeer{t: t, host: h, streams: map[peer.ID]network.Stream{}, inbound: map[network.Stream]struct{}{}}
	for _, pid := range []protocol.ID{lpubsub.GossipSubID_v13, lpubsub.GossipSubID_v12, lpubsub.GossipSubID_v11, lpubsub.GossipSubID_v10} {
		h.SetStreamHandler(pid, rp.read)
	}
	t.Cleanup(func() {
		rp.mu.Lock()
		rp.closed = true
		for s := range rp.inbound {
			s.Reset() // a mocknet host's Close leaves its streams open
		}
		rp.mu.Unlock()
		h.Close()
		rp.readers.Wait()
		if g.Refused() != 0 {
			t.Errorf("raw peer's gater refused %d dials", g.Refused())
		}
	})
	return rp
}

// read records the RPCs a member sends on its stream to the peer.
func (rp *rawGossipPeer) read(s network.Stream) {
	defer s.Reset()
	rp.mu.Lock()
	if rp.closed {
		rp.mu.Unlock()
		return
	}
	rp.readers.Add(1)
	rp.inbound[s] = struct{}{}
	rp.mu.Unlock()
	defer rp.readers.Done()
	r := bufio.NewReader(s)
	for {
		size, err := binary.ReadUvarint(r)
		if err != nil || size > 4<<20 {
			return
		}
		b := make([]byte, size)
		if _, err := io.ReadFull(r, b); err != nil {
			return
		}
		var rpc pb.RPC
		if proto.Unmarshal(b, &rpc) == nil {
			rp.record(&rpc)
		}
	}
}

func (rp *rawGossipPeer) record(rpc *pb.RPC) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	for _, s := range rpc.GetSubscriptions() {
		rp.heard = append(rp.heard, s.GetTopicid())
	}
	for _, m := range rpc.GetPublish() {
		rp.heard = append(rp.heard, m.GetTopic())
		if strings.HasPrefix(m.GetTopic(), group.TopicPrefix) {
			rp.frames++
			rp.data = append(rp.data, m.GetData())
		}
	}
	for _, g := range rpc.GetControl().GetGraft() {
		rp.heard = append(rp.heard, g.GetTopicID())
		rp.grafted = true
	}
	for _, ih := range rpc.GetControl().GetIhave() {
		rp.heard = append(rp.heard, ih.GetTopicID())
	}
}

func (rp *rawGossipPeer) connect(n *testNode) {
	rp.t.Helper()
	if err := rp.host.Connect(context.Background(), peer.AddrInfo{ID: n.ID(), Addrs: n.net.Host().Addrs()}); err != nil {
		rp.t.Fatal(err)
	}
}

// write sends one RPC to p on the peer's stream to it, opened once.
func (rp *rawGossipPeer) write(p peer.ID, rpc *pb.RPC) error {
	s := rp.streams[p]
	if s == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var err error
		if s, err = rp.host.NewStream(ctx, p, lpubsub.GossipSubID_v11); err != nil {
			return err
		}
		rp.streams[p] = s
	}
	b, err := proto.Marshal(rpc)
	if err != nil {
		return err
	}
	_ = s.SetWriteDeadline(time.Now().Add(10 * time.Second))
	_, err = s.Write(append(binary.AppendUvarint(nil, uint64(len(b))), b...))
	return err
}

// subscribe tells member p that the peer subscribes to a topic whose name
// it learnt somehow.
func (rp *rawGossipPeer) subscribe(p peer.ID, topic string) {
	rp.t.Helper()
	if err := rp.write(p, &pb.RPC{Subscriptions: []*pb.RPC_SubOpts{{Topicid: proto.String(topic), Subscribe: proto.Bool(true)}}}); err != nil {
		rp.t.Fatal(err)
	}
}

// groupTopics is every group topic the peer heard named, whether it was
// grafted into a mesh, and how many group messages it received.
func (rp *rawGossipPeer) groupTopics() (topics []string, grafted bool, frames int) {
	rp.mu.Lock()
	defer rp.mu.Unlock()
	for _, t := range rp.heard {
		if strings.HasPrefix(t, group.TopicPrefix) {
			topics = append(topics, t)
		}
	}
	return topics, rp.grafted, rp.frames
}

// inject publishes each of datas on topic straight to member p, as an
// attacker that ignores the protocol's etiquette would, until p stops
// reading. It returns how many it wrote.
func (rp *rawGossipPeer) inject(p peer.ID, topic string, datas func(yield func([]byte) bool)) int {
	sent := 0
	for data := range datas {
		if err := rp.write(p, &pb.RPC{Publish: []*pb.Message{{Topic: proto.String(topic), Data: data}}}); err != nil {
			rp.t.Logf("inject: %v", err)
			break
		}
		sent++
	}
	return sent
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

// waitScored waits until tn's GossipSub scores p: only then does a
// message it rejects from p count against p (GossipSub adds a peer to its
// scores a moment after the connection).
func (tn *testNode) waitScored(p peer.ID) {
	tn.t.Helper()
	tn.waitUntil("GossipSub to score the peer", func() bool { _, ok := tn.ps.PeerScore(p); return ok })
}

func (tn *testNode) rejected(id group.ID) int64 {
	return tn.groups.Rejected(id)
}

// sealFrame seals payload as by's next message under gk and frames it.
func sealFrame(t *testing.T, sc *group.SendChain, gk group.GroupKey, payload []byte) []byte {
	t.Helper()
	e, err := sc.Seal(payload)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gk.Frame(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// TestGroupHostileOutsider is the attack of issue 17's review: a peer that
// is in no group, connected to a member.
//
//   - It learns no group topic, receives no envelope and gets no graft,
//     even subscribed to the group's topic by name.
//   - It writes 4,096 envelopes of 60 KiB, each from a fresh key and for an
//     epoch the member has no key for, straight to the member: the member's
//     heap grows by less than 16 MiB, its score of the attacker falls, and
//     nothing is stored.
func TestGroupHostileOutsider(t *testing.T) {
	nodes := newGroupNodes(t, 2)
	f := newGroup(t, "hostile", nodes)
	owner, a := nodes[0], nodes[1]
	topic, _ := a.groups.Topic(f.id)
	x := newRawGossipPeer(t, identity.New())
	x.connect(a)
	x.connect(owner)
	x.subscribe(a.ID(), topic) // told the name: it learns nothing more
	x.subscribe(owner.ID(), topic)
	for i := range 20 {
		m, err := owner.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "members only " + string(rune('a'+i))})
		if err != nil {
			t.Fatal(err)
		}
		a.waitUntil("a line at a", func() bool { _, ok := a.groupLine(f.id, m.ID); return ok })
	}
	if topics, grafted, frames := x.groupTopics(); len(topics) > 0 || grafted || frames > 0 {
		t.Fatalf("the outsider heard of %d group topics (grafted %v) and got %d frames", len(topics), grafted, frames)
	}
	for _, n := range nodes {
		for _, p := range n.ps.Peers(topic) {
			if p == x.host.ID() {
				t.Fatalf("%s counts the outsider on the group's topic", n.ID().ShortString())
			}
		}
	}

	// The flood: fresh keys, an epoch ahead, 60 KiB each.
	a.waitScored(x.host.ID())
	const floods, size = 4096, 60 << 10
	epoch := a.groupEpoch(f.id) + 1
	payload := make([]byte, size)
	before := heapInUse()
	sent := x.inject(a.ID(), topic, func(yield func([]byte) bool) {
		for range floods {
			gk := group.GroupKey{Group: f.id, Epoch: epoch, Key: group.NewEpochKey()}
			sc, err := group.NewSendChain(gk, keys.GeneratePrivateKey())
			if err != nil {
				t.Fatal(err)
			}
			if !yield(sealFrame(t, sc, gk, payload)) {
				return
			}
		}
	})
	a.waitUntil("a to score the attacker down", func() bool {
		s, ok := a.ps.PeerScore(x.host.ID())
		return ok && s < 0
	})
	if grew := int64(heapInUse()) - int64(before); grew >= 16<<20 {
		t.Errorf("the member's heap grew by %d MiB after %d envelopes", grew>>20, sent)
	}
	if a.rejected(f.id) == 0 {
		t.Error("nothing was rejected")
	}
	for _, l := range a.groupLines(f.id) {
		if !strings.HasPrefix(l.Body, "members only") {
			t.Fatalf("a stored %q", l.Body)
		}
	}
	t.Logf("%d of %d envelopes written before the member stopped reading", sent, floods)
}

// TestGroupFrameOnTheWire: what a member's node publishes, as captured on
// the wire by a fellow member's hand-driven peer, names no sender and no
// sequence number, has one of the padded sizes, and opens for no one
// holding another group's key (a member of another group).
func TestGroupFrameOnTheWire(t *testing.T) {
	useTCP(t) // m's identity comes back as a raw peer
	nodes := newGroupNodes(t, 3)
	f := newGroup(t, "wire", nodes)
	owner, a, m := nodes[0], nodes[1], nodes[2]
	other := newGroup(t, "another", []*testNode{owner, m})
	otherKey := m.epochKey(other.id, m.groupEpoch(other.id))
	topic, _ := a.groups.Topic(f.id)
	gk := a.epochKey(f.id, a.groupEpoch(f.id))
	mID := m.id
	m.stop()
	tap := newRawGossipPeer(t, mID) // a member: a sends it the topic's frames
	tap.connect(a)
	tap.subscribe(a.ID(), topic)
	var sent []GroupMessage
	for i := range 3 {
		msg, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: strings.Repeat("x", 300*i+1)})
		if err != nil {
			t.Fatal(err)
		}
		sent = append(sent, msg)
	}
	a.waitUntil("the frames at the tap", func() bool {
		tap.mu.Lock()
		defer tap.mu.Unlock()
		return len(tap.data) >= len(sent)
	})
	tap.mu.Lock()
	frames := slices.Clone(tap.data)
	tap.mu.Unlock()
	sizes := map[int]bool{}
	for _, n := range group.PaddedSizes {
		sc, err := group.NewSendChain(gk, keys.GeneratePrivateKey())
		if err != nil {
			t.Fatal(err)
		}
		sizes[len(sealFrame(t, sc, gk, make([]byte, n-1)))] = true
	}
	aKey := a.id.Public().Key
	for _, fr := range frames {
		if !sizes[len(fr)] {
			t.Errorf("a %d-byte frame, not one of the padded sizes %v", len(fr), sizes)
		}
		if bytes.Contains(fr, aKey[:]) || bytes.Contains(fr, []byte(a.ID())) || bytes.Contains(fr, f.id[:]) {
			t.Error("a frame carries the sender's key, peer ID or the group ID in clear")
		}
		if _, err := otherKey.Unframe(fr); err == nil {
			t.Error("another group's key opens a frame")
		}
		e, err := gk.Unframe(fr)
		if err != nil {
			t.Fatalf("the epoch's key does not open a frame: %v", err)
		}
		if e.Sender != aKey {
			continue // a receipt or a line of the owner's
		}
		seq := binary.BigEndian.AppendUint64(nil, e.Seq)
		if e.Seq > 0 && bytes.Contains(fr, seq) {
			t.Errorf("frame of seq %d carries it in clear", e.Seq)
		}
	}
}

// TestGroupRemovedMemberLockedOut: a member removed while away comes back
// as a bare GossipSub peer with its identity and its old key. It does not
// know the new epoch's topic, so it receives nothing of it; the members
// leave the old epoch's topic once the grace window is over, after which
// its posts into the old epoch reach no one and nothing of it is stored.
func TestGroupRemovedMemberLockedOut(t *testing.T) {
	useTCP(t) // m's identity comes back as a raw peer
	const grace = 300 * time.Millisecond
	nodes := newGroupNodes(t, 3, func(c *Config) { c.GroupEpochGrace = grace })
	f := newGroup(t, "locked", nodes)
	owner, a, m := nodes[0], nodes[1], nodes[2]
	e0 := owner.groupEpoch(f.id)
	oldKey := m.epochKey(f.id, e0)
	oldTopic := oldKey.Topic()

	mID := m.id
	m.stop()
	if err := owner.RemoveGroupMember(t.Context(), f.id, m.ID()); err != nil {
		t.Fatal(err)
	}
	f.members = nodes[:2]
	f.waitEpoch(e0 + 1)
	// The node moves to the new epoch's topic once it has adopted the
	// epoch: a moment after the epoch shows.
	var newTopic string
	a.waitUntil("a on the new epoch's topic", func() bool {
		newTopic, _ = a.groups.Topic(f.id)
		return newTopic != "" && newTopic != oldTopic
	})
	evil := newRawGossipPeer(t, mID)
	evil.connect(a)
	evil.connect(owner)
	evil.subscribe(a.ID(), oldTopic)
	evil.subscribe(owner.ID(), oldTopic)
	// The members leave the old topic when the window is over.
	for _, n := range nodes[:2] {
		n.waitUntil("the old epoch's topic left", func() bool {
			_, on := n.groups.Validate(t.Context(), f.id, e0, n.ID(), nil)
			return !on
		})
	}
	for i := range 5 {
		msg, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "not for m " + string(rune('0'+i))})
		if err != nil {
			t.Fatal(err)
		}
		owner.waitUntil("the line at the owner", func() bool { _, ok := owner.groupLine(f.id, msg.ID); return ok })
	}
	// m writes into the old epoch with the key it kept, straight to a.
	sc, err := group.NewSendChain(oldKey, mID.Signing())
	if err != nil {
		t.Fatal(err)
	}
	evil.inject(a.ID(), oldTopic, func(yield func([]byte) bool) {
		for i := range 5 {
			if !yield(sealFrame(t, sc, oldKey, []byte("still here "+string(rune('0'+i))))) {
				return
			}
		}
	})
	// A line sent after the posts reached the owner through a: by then the
	// posts had every chance to.
	marker, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "marker"})
	if err != nil {
		t.Fatal(err)
	}
	owner.waitUntil("the marker at the owner", func() bool { _, ok := owner.groupLine(f.id, marker.ID); return ok })
	if topics, _, frames := evil.groupTopics(); frames > 0 || strings.Contains(strings.Join(topics, " "), newTopic) {
		t.Fatalf("the removed member heard of the new topic or got %d frames", frames)
	}
	for _, n := range nodes[:2] {
		for _, l := range n.groupLines(f.id) {
			if l.Sender == m.ID() && strings.HasPrefix(l.Body, "still here") {
				t.Fatalf("%s stored the removed member's late post %q", n.ID().ShortString(), l.Body)
			}
		}
	}
}

// TestGroupRejectsForgeries: frames a member forwards that do not open
// under the epoch key, are signed by a non-member, were tampered with or
// come from another group are rejected by the validator; a non-member that
// writes them straight to a member is scored down and nothing is stored; a
// forged roster sent over 1:1 (a tampered one, and one a plain member
// signed on a chain of its own) is not adopted.
func TestGroupRejectsForgeries(t *testing.T) {
	nodes := newGroupNodes(t, 3)
	f := newGroup(t, "guarded", nodes)
	owner, a, b := nodes[0], nodes[1], nodes[2]
	topic, _ := a.groups.Topic(f.id)
	epoch := a.groupEpoch(f.id)
	gk := a.epochKey(f.id, epoch)
	// A second group with a, whose frame will be replayed in the first.
	f2 := newGroup(t, "other", []*testNode{owner, a})
	gk2 := a.epochKey(f2.id, a.groupEpoch(f2.id))
	sc2, err := group.NewSendChain(gk2, a.id.Signing())
	if err != nil {
		t.Fatal(err)
	}
	replayed := sealFrame(t, sc2, gk2, []byte("in the other group"))
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
		env.Ciphertext[len(env.Ciphertext)-1] ^= 1
		tampered, err = gk.Frame(env)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	mallory := identity.New()
	sc, err := group.NewSendChain(gk, mallory.Signing()) // even with the key: not a member
	if err != nil {
		t.Fatal(err)
	}
	outsider := sealFrame(t, sc, gk, []byte("hello from outside"))
	attacks := []attack{
		{"signed by a non-member", outsider, pubsub.Reject},
		{"tampered", tampered, pubsub.Reject},
		{"replayed from another group", replayed, pubsub.Reject},
		{"garbage", []byte("not an envelope"), pubsub.Reject},
	}
	validatorRejects(t, a, f.id, epoch, b.ID(), mallory, attacks)

	// Over the network: mallory writes them straight to a.
	evil := newRawGossipPeer(t, mallory)
	evil.connect(a)
	a.waitScored(mallory.Public().Key.PeerID())
	before := a.rejected(f.id)
	evil.inject(a.ID(), topic, func(yield func([]byte) bool) {
		for _, at := range attacks {
			if !yield(at.data) {
				return
			}
		}
	})
	a.waitUntil("a to reject the forgeries", func() bool { return a.rejected(f.id) > before })
	a.waitUntil("a to score mallory down", func() bool {
		s, ok := a.ps.PeerScore(mallory.Public().Key.PeerID())
		return ok && s < 0
	})
	marker, err := a.GroupSend(t.Context(), f.id, GroupOutgoing{Body: "marker"})
	if err != nil {
		t.Fatal(err)
	}
	owner.waitUntil("the marker at the owner", func() bool { _, ok := owner.groupLine(f.id, marker.ID); return ok })
	for _, n := range nodes {
		for _, l := range n.groupLines(f.id) {
			if l.Body != "genuine" && l.Body != "marker" {
				t.Fatalf("%s stored %q", n.ID().ShortString(), l.Body)
			}
		}
	}

	forgedRostersIgnored(t, f, owner, a, b, mallory)
}

// attack is a forged frame and the verdict of a member's validator when a
// fellow member forwards it.
type attack struct {
	name    string
	data    []byte
	relayed pubsub.Result
}

// validatorRejects: a's validator rejects every attack from mallory (no
// member: the topic is not its to write on), and judges each as want when
// the member relay forwards it.
func validatorRejects(t *testing.T, a *testNode, id group.ID, epoch uint64, relay peer.ID, mallory identity.Identity, attacks []attack) {
	v := func(from peer.ID, data []byte) pubsub.Result {
		res, ok := a.groups.Validate(t.Context(), id, epoch, from, data)
		if !ok {
			t.Fatal("a is not on the group's topic")
		}
		return res
	}
	for _, at := range attacks {
		if got := v(mallory.Public().Key.PeerID(), at.data); got != pubsub.Reject {
			t.Errorf("%s from mallory: validator says %s, want reject", at.name, got)
		}
		if got := v(relay, at.data); got != at.relayed {
			t.Errorf("%s relayed by a member: validator says %s, want %s", at.name, got, at.relayed)
		}
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
