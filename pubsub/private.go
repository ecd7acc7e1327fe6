package pubsub

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	pb "github.com/libp2p/go-libp2p-pubsub/pb"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

const (
	// maxTopicsPerPeer bounds the topics a peer's subscriptions are kept
	// for; past it, its further subscriptions are dropped (GossipSub keeps
	// each one for as long as the peer is connected).
	maxTopicsPerPeer = 256
	// maxSubsPerRPC bounds the subscriptions in one RPC; an RPC with more
	// is dropped whole.
	maxSubsPerRPC = 512
)

// Private keeps private topics (the node's group topics: names with a given
// prefix) among the peers allowed on each. GossipSub announces every
// subscription to every connected peer and forwards to whoever announced
// one; with a Private in Config, on a private topic this node
//
//   - announces its subscription only to allowed peers (the RPCs it writes
//     to any other peer are stripped of the topic: subscriptions, messages,
//     gossip and grafts);
//   - records only allowed peers' subscriptions, so it neither publishes nor
//     forwards to anyone else;
//   - grafts, gossips and answers IWANT only with allowed peers (GossipSub's
//     peer filter).
//
// The topic's validator must still check who a message came from: a peer
// that learnt the name some other way can send to it.
//
// A peer's subscription to a private topic this node has not joined yet is
// kept (within the per-peer bound): it may be a member announcing an epoch
// whose key is still on its way here, and this node will need to know it is
// there once it joins. Should it turn out not to be allowed, nothing reaches
// it: the streams strip the topic's messages, and the peer filter keeps it
// out of the mesh and gossip.
type Private struct {
	prefix      string
	prefixBytes []byte

	mu      sync.RWMutex
	allowed map[string]map[peer.ID]struct{} // joined private topic -> peers allowed
	subs    map[peer.ID]map[string]struct{} // peer -> topics its subscriptions are kept for
}

// NewPrivate makes the access list of the topics whose names start with
// prefix.
func NewPrivate(prefix string) *Private {
	return &Private{prefix: prefix, prefixBytes: []byte(prefix), allowed: map[string]map[peer.ID]struct{}{}, subs: map[peer.ID]map[string]struct{}{}}
}

// Allow sets the peers allowed on a private topic, replacing any set before.
// Set it before joining the topic.
func (a *Private) Allow(topic string, peers []peer.ID) {
	set := make(map[peer.ID]struct{}, len(peers))
	for _, p := range peers {
		set[p] = struct{}{}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.allowed[topic] = set
}

// Forget drops a private topic's list once it is left: no one is allowed
// on it any more.
func (a *Private) Forget(topic string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.allowed, topic)
}

// Allowed reports whether p may see topic: any peer on a public topic, the
// listed peers on a private one, no one on a private topic not listed.
func (a *Private) Allowed(p peer.ID, topic string) bool {
	if !strings.HasPrefix(topic, a.prefix) {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	_, ok := a.allowed[topic][p]
	return ok
}

// mayAnnounce reports whether p's subscription to topic is kept.
func (a *Private) mayAnnounce(p peer.ID, topic string) bool {
	if !strings.HasPrefix(topic, a.prefix) {
		return true
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if set, joined := a.allowed[topic]; joined {
		_, ok := set[p]
		return ok
	}
	return true
}

// CanSubscribe is part of GossipSub's SubscriptionFilter: this node may
// join any topic.
func (a *Private) CanSubscribe(string) bool { return true }

// FilterIncomingSubscriptions is part of GossipSub's SubscriptionFilter: it
// keeps the subscriptions of from that mayAnnounce allows, up to
// maxTopicsPerPeer topics per peer.
func (a *Private) FilterIncomingSubscriptions(from peer.ID, subs []*pb.RPC_SubOpts) ([]*pb.RPC_SubOpts, error) {
	if len(subs) > maxSubsPerRPC {
		return nil, fmt.Errorf("%d subscriptions in one RPC, limit %d", len(subs), maxSubsPerRPC)
	}
	subs = lpubsub.FilterSubscriptions(subs, func(topic string) bool { return a.mayAnnounce(from, topic) })
	a.mu.Lock()
	defer a.mu.Unlock()
	kept := subs[:0]
	for _, s := range subs {
		topic := s.GetTopicid()
		held := a.subs[from]
		_, had := held[topic]
		switch {
		case !s.GetSubscribe():
			delete(held, topic)
			if len(held) == 0 {
				delete(a.subs, from)
			}
		case had:
		case len(held) >= maxTopicsPerPeer:
			continue
		default:
			if held == nil {
				held = map[string]struct{}{}
				a.subs[from] = held
			}
			held[topic] = struct{}{}
		}
		kept = append(kept, s)
	}
	return kept, nil
}

// peerGone forgets the topics of a peer GossipSub dropped.
func (a *Private) peerGone(p peer.ID) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.subs, p)
}

// strip removes from one encoded RPC (a uvarint length and the message) what
// concerns a private topic p may not see. It returns the RPC unchanged when
// it names no private topic, and nil when nothing is left to send.
func (a *Private) strip(p peer.ID, frame []byte) []byte {
	if !bytes.Contains(frame, a.prefixBytes) {
		return frame
	}
	_, n := binary.Uvarint(frame)
	if a.allAllowed(p, frame[n:]) {
		return frame // the common case, a member's traffic: no copy, no re-encoding
	}
	var rpc pb.RPC
	if err := proto.Unmarshal(frame[n:], &rpc); err != nil {
		return frame // not ours to judge; the peer will drop it
	}
	ok := func(topic string) bool { return a.Allowed(p, topic) }
	changed := false
	rpc.Subscriptions = keep(rpc.Subscriptions, func(s *pb.RPC_SubOpts) bool { return ok(s.GetTopicid()) }, &changed)
	rpc.Publish = keep(rpc.Publish, func(m *pb.Message) bool { return ok(m.GetTopic()) }, &changed)
	if c := rpc.Control; c != nil {
		c.Ihave = keep(c.Ihave, func(m *pb.ControlIHave) bool { return ok(m.GetTopicID()) }, &changed)
		c.Graft = keep(c.Graft, func(m *pb.ControlGraft) bool { return ok(m.GetTopicID()) }, &changed)
		c.Prune = keep(c.Prune, func(m *pb.ControlPrune) bool { return ok(m.GetTopicID()) }, &changed)
	}
	if pm := rpc.Partial; pm != nil && !ok(pm.GetTopicID()) {
		rpc.Partial, changed = nil, true
	}
	if !changed {
		return frame
	}
	size := proto.Size(&rpc)
	if size == 0 {
		return nil
	}
	out := binary.AppendUvarint(make([]byte, 0, binary.MaxVarintLen64+size), uint64(size))
	out, err := proto.MarshalOptions{}.MarshalAppend(out, &rpc)
	if err != nil {
		return nil
	}
	return out
}

// allAllowed reports whether p is allowed on every topic an encoded RPC
// names, reading the message in place (GossipSub's RPC: subscriptions (1)
// name a topic in field 1, messages (2) in field 4, and the control message
// (3) names one in field 1 of its IHAVE (1), GRAFT (3) and PRUNE (4)
// entries, the partial messages extension (10) in its field 1). It says false for what it cannot read, so that strip decodes
// it fully.
func (a *Private) allAllowed(p peer.ID, rpc []byte) bool {
	ok := true
	named := func(topic []byte) {
		if ok && !a.Allowed(p, string(topic)) {
			ok = false
		}
	}
	control := func(b []byte) bool {
		return eachField(b, func(num protowire.Number, v []byte) bool {
			switch num {
			case 1, 3, 4:
				return eachField(v, func(n protowire.Number, t []byte) bool {
					if n == 1 {
						named(t)
					}
					return true
				})
			}
			return true
		})
	}
	read := eachField(rpc, func(num protowire.Number, v []byte) bool {
		switch num {
		case 1, 2:
			field := protowire.Number(2) // a subscription's topic
			if num == 2 {
				field = 4 // a message's
			}
			return eachField(v, func(n protowire.Number, t []byte) bool {
				if n == field {
					named(t)
				}
				return true
			})
		case 3:
			return control(v)
		case 10: // the partial messages extension, which names its topic too
			return eachField(v, func(n protowire.Number, t []byte) bool {
				if n == 1 {
					named(t)
				}
				return true
			})
		}
		return true
	})
	return read && ok
}

// eachField calls fn with the number and bytes of each length-delimited
// field of an encoded message (skipping the others), until fn says stop;
// it reports whether the message read to its end.
func eachField(b []byte, fn func(protowire.Number, []byte) bool) bool {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		if typ != protowire.BytesType {
			if n = protowire.ConsumeFieldValue(num, typ, b); n < 0 {
				return false
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeBytes(b)
		if n < 0 {
			return false
		}
		b = b[n:]
		if !fn(num, v) {
			return false
		}
	}
	return true
}

// keep returns the items of xs that ok keeps, setting *changed if it
// dropped any.
func keep[T any](xs []T, ok func(T) bool, changed *bool) []T {
	out := xs[:0]
	for _, x := range xs {
		if ok(x) {
			out = append(out, x)
		} else {
			*changed = true
		}
	}
	return out
}

// privateHost is the host GossipSub runs on when topics are private: the
// streams it opens strip what each peer may not see.
type privateHost struct {
	host.Host
	private *Private
}

func (h privateHost) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	s, err := h.Host.NewStream(ctx, p, pids...)
	if err != nil {
		return nil, err
	}
	return &strippingStream{Stream: s, private: h.private, peer: p}, nil
}

// strippingStream is a GossipSub stream to one peer whose RPCs pass through
// Private.strip. GossipSub writes each RPC whole, but the stream does not
// rely on it: it cuts what it is given into RPCs and keeps a partial one
// until the rest comes.
type strippingStream struct {
	network.Stream
	private *Private
	peer    peer.ID
	pending []byte
}

func (s *strippingStream) Write(b []byte) (int, error) {
	buf := b
	if len(s.pending) > 0 {
		buf = append(s.pending, b...)
	}
	for {
		size, n := binary.Uvarint(buf)
		if n < 0 {
			return 0, fmt.Errorf("pubsub: RPC length overflows")
		}
		if n == 0 || uint64(len(buf)-n) < size {
			break
		}
		end := n + int(size)
		if out := s.private.strip(s.peer, buf[:end]); len(out) > 0 {
			if _, err := s.Stream.Write(out); err != nil {
				return 0, err
			}
		}
		buf = buf[end:]
	}
	s.pending = append(s.pending[:0], buf...)
	return len(b), nil
}
