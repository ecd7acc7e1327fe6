package pubsub

import (
	"bytes"
	"context"
	"encoding/binary"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"
)

const privatePrefix = "/private/"

// outsider is a plain GossipSub peer (no filters of ours) that records every
// RPC it receives, as an attacker connected to a member would.
type outsider struct {
	*meshTracker // the RawTracer methods it does not record
	mu           sync.Mutex
	heard        []string // every topic named in a received RPC
	grafted      bool
}

func (o *outsider) RecvRPC(rpc *lpubsub.RPC) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, s := range rpc.GetSubscriptions() {
		o.heard = append(o.heard, s.GetTopicid())
	}
	for _, m := range rpc.GetPublish() {
		o.heard = append(o.heard, m.GetTopic())
	}
	c := rpc.GetControl()
	for _, g := range c.GetGraft() {
		o.heard = append(o.heard, g.GetTopicID())
		o.grafted = true
	}
	for _, ih := range c.GetIhave() {
		o.heard = append(o.heard, ih.GetTopicID())
	}
}

func (o *outsider) Graft(peer.ID, string) { o.mu.Lock(); o.grafted = true; o.mu.Unlock() }

func fastParams() lpubsub.GossipSubParams {
	p := lpubsub.DefaultGossipSubParams()
	p.HeartbeatInterval = testHeartbeat
	p.HeartbeatInitialDelay = testHeartbeat
	return p
}

func (o *outsider) private() (topics []string, grafted bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, t := range o.heard {
		if strings.HasPrefix(t, privatePrefix) {
			topics = append(topics, t)
		}
	}
	return topics, o.grafted
}

func withPrivate(a *Private) func(*Config) { return func(c *Config) { c.Private = a } }

// TestPrivateTopicHiddenFromOutsider: two members on a private topic, and
// an outsider connected to one of them that knows the topic's name and
// subscribes. It must hear nothing of the topic: no subscription, no
// message, no gossip, no graft; the members still talk.
func TestPrivateTopicHiddenFromOutsider(t *testing.T) {
	const topic = privatePrefix + "g1"
	accessA, accessB := NewPrivate(privatePrefix), NewPrivate(privatePrefix)
	a, wa := meshPubSub(t, withPrivate(accessA))
	b := testPubSub(t, withPrivate(accessB))
	members := []peer.ID{a.host.ID(), b.host.ID()}
	accessA.Allow(topic, members)
	accessB.Allow(topic, members)

	xh := testHost(t)
	rec := &outsider{meshTracker: newMeshTracker()}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	x, err := lpubsub.NewGossipSub(ctx, xh, lpubsub.WithRawTracer(rec), lpubsub.WithGossipSubParams(fastParams()))
	if err != nil {
		t.Fatal(err)
	}
	xt, err := x.Join(topic)
	if err != nil {
		t.Fatal(err)
	}
	xsub, err := xt.Subscribe()
	if err != nil {
		t.Fatal(err)
	}
	defer xsub.Cancel()

	ta := join(t, a, topic, acceptAll)
	tb := join(t, b, topic, acceptAll)
	connect(t, a, b)
	if err := xh.Connect(ctx, peer.AddrInfo{ID: a.host.ID(), Addrs: a.host.Addrs()}); err != nil {
		t.Fatal(err)
	}
	waitMesh(t, wa, topic, b)
	for i := range 20 {
		publish(t, ta, "from a "+strconv.Itoa(i))
		if got := next(t, tb); !strings.HasPrefix(string(got.Data), "from a") {
			t.Fatalf("b got %q", got.Data)
		}
	}
	// A few heartbeats of gossip and mesh upkeep after the last message.
	deadline := time.Now().Add(20 * testHeartbeat)
	for time.Now().Before(deadline) {
		select {
		case <-wa.changed:
		case <-time.After(testHeartbeat):
		}
	}
	if topics, grafted := rec.private(); len(topics) > 0 || grafted {
		t.Fatalf("the outsider heard of %v (grafted: %v)", topics, grafted)
	}
	select {
	case m := <-xsubMessages(ctx, xsub):
		t.Fatalf("the outsider received %q", m)
	default:
	}
	for _, p := range ta.Peers() {
		if p == xh.ID() {
			t.Fatal("a counts the outsider as a topic peer")
		}
	}
}

func xsubMessages(ctx context.Context, s *lpubsub.Subscription) <-chan []byte {
	out := make(chan []byte, 1)
	c, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	go func() {
		defer cancel()
		if m, err := s.Next(c); err == nil {
			out <- m.Data
		}
	}()
	<-c.Done()
	return out
}

// TestPrivateTopicJoinedLate: a member announces a private topic before the
// other has joined it or any private topic (the first epoch's topic of a
// group it was just invited to, whose key it is about to get); once the
// other joins, its publishes reach the first.
func TestPrivateTopicJoinedLate(t *testing.T) {
	const topic = privatePrefix + "epoch1"
	accessA, accessB := NewPrivate(privatePrefix), NewPrivate(privatePrefix)
	a := testPubSub(t, withPrivate(accessA))
	b := testPubSub(t, withPrivate(accessB))
	members := []peer.ID{a.host.ID(), b.host.ID()}
	connect(t, a, b)
	accessB.Allow(topic, members)
	tb := join(t, b, topic, acceptAll)
	// a has not joined the topic yet: b's subscription must be kept anyway.
	waitFor(t, func() bool { return slices.Contains(a.lib.ListPeers(topic), b.host.ID()) })
	accessA.Allow(topic, members)
	ta := join(t, a, topic, acceptAll)
	publish(t, ta, "late")
	if got := next(t, tb); string(got.Data) != "late" {
		t.Fatalf("b got %q", got.Data)
	}
}

func waitFor(tb testing.TB, cond func() bool) {
	tb.Helper()
	end := time.Now().Add(deadline)
	for !cond() {
		if time.Now().After(end) {
			tb.Fatal("condition not met in time")
		}
		time.Sleep(10 * time.Millisecond) // polling GossipSub's own state, which has no event
	}
}

// fakeStream records what reaches the wire.
type fakeStream struct {
	network.Stream
	out bytes.Buffer
}

func (f *fakeStream) Write(b []byte) (int, error) { return f.out.Write(b) }

func encodeRPC(t *testing.T, rpc *pb.RPC) []byte {
	t.Helper()
	b, err := proto.Marshal(rpc)
	if err != nil {
		t.Fatal(err)
	}
	return append(binary.AppendUvarint(nil, uint64(len(b))), b...)
}

func decodeRPCs(t *testing.T, b []byte) []*pb.RPC {
	t.Helper()
	var out []*pb.RPC
	for len(b) > 0 {
		size, n := binary.Uvarint(b)
		var rpc pb.RPC
		if err := proto.Unmarshal(b[n:n+int(size)], &rpc); err != nil {
			t.Fatal(err)
		}
		out = append(out, &rpc)
		b = b[n+int(size):]
	}
	return out
}

// TestStrippingStream cuts writes into RPCs however they are split, drops
// what names a private topic the peer is not allowed on, and passes the
// rest unchanged.
func TestStrippingStream(t *testing.T) {
	access := NewPrivate(privatePrefix)
	const member, outsiderPeer = peer.ID("member"), peer.ID("outsider")
	access.Allow(privatePrefix+"g", []peer.ID{member})
	sub := func(topic string) *pb.RPC_SubOpts {
		return &pb.RPC_SubOpts{Topicid: proto.String(topic), Subscribe: proto.Bool(true)}
	}
	rpcs := encodeRPC(t, &pb.RPC{Subscriptions: []*pb.RPC_SubOpts{sub("/room/1"), sub(privatePrefix + "g")}})
	rpcs = append(rpcs, encodeRPC(t, &pb.RPC{Publish: []*pb.Message{{Topic: proto.String(privatePrefix + "g"), Data: []byte("secret")}}})...)
	rpcs = append(rpcs, encodeRPC(t, &pb.RPC{Publish: []*pb.Message{{Topic: proto.String("/room/1"), Data: []byte("public")}}})...)
	for _, tc := range []struct {
		peer    peer.ID
		private bool
	}{{member, true}, {outsiderPeer, false}} {
		for _, chunk := range []int{len(rpcs), 1, 7} {
			f := &fakeStream{}
			s := &strippingStream{Stream: f, private: access, peer: tc.peer}
			for b := rpcs; len(b) > 0; {
				n := min(chunk, len(b))
				if w, err := s.Write(b[:n]); err != nil || w != n {
					t.Fatalf("Write = %d, %v", w, err)
				}
				b = b[n:]
			}
			got := decodeRPCs(t, f.out.Bytes())
			sawPrivate := bytes.Contains(f.out.Bytes(), []byte(privatePrefix))
			if sawPrivate != tc.private {
				t.Errorf("peer %s, chunks of %d: private topic on the wire = %v", tc.peer, chunk, sawPrivate)
			}
			if !bytes.Contains(f.out.Bytes(), []byte("public")) || len(got) < 2 {
				t.Errorf("peer %s, chunks of %d: public traffic lost (%d RPCs)", tc.peer, chunk, len(got))
			}
		}
	}
}

// TestSubscriptionsBoundedPerPeer: a peer's subscriptions are kept for at
// most maxTopicsPerPeer topics.
func TestSubscriptionsBoundedPerPeer(t *testing.T) {
	access := NewPrivate(privatePrefix)
	const p = peer.ID("flooder")
	var subs []*pb.RPC_SubOpts
	for i := range maxTopicsPerPeer + 50 {
		subs = append(subs, &pb.RPC_SubOpts{Topicid: proto.String("/room/" + string(rune(0x100+i))), Subscribe: proto.Bool(true)})
	}
	kept, err := access.FilterIncomingSubscriptions(p, subs[:200])
	if err != nil {
		t.Fatal(err)
	}
	more, err := access.FilterIncomingSubscriptions(p, subs[200:])
	if err != nil {
		t.Fatal(err)
	}
	if n := len(kept) + len(more); n != maxTopicsPerPeer {
		t.Fatalf("kept %d subscriptions, want %d", n, maxTopicsPerPeer)
	}
	// A stranger's subscription to a private topic this node is on is
	// dropped; to one it is not on (yet) kept.
	access.Allow(privatePrefix+"x", []peer.ID{"member"})
	if got, _ := access.FilterIncomingSubscriptions(peer.ID("stranger"), []*pb.RPC_SubOpts{{Topicid: proto.String(privatePrefix + "x"), Subscribe: proto.Bool(true)}}); len(got) != 0 {
		t.Fatal("a stranger's subscription to a joined private topic was kept")
	}
	if got, _ := access.FilterIncomingSubscriptions(peer.ID("stranger"), []*pb.RPC_SubOpts{{Topicid: proto.String(privatePrefix + "y"), Subscribe: proto.Bool(true)}}); len(got) != 1 {
		t.Fatal("a subscription to a private topic not joined yet was dropped")
	}
	access.peerGone(p)
	if got, _ := access.FilterIncomingSubscriptions(p, subs[:1]); len(got) != 1 {
		t.Fatal("a peer that came back cannot subscribe")
	}
}
