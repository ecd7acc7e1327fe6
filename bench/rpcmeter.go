package bench

import (
	"sync/atomic"
	"time"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"
)

// rpcMeter breaks a node's GossipSub traffic down by what it carries
// (node.Config.PubSubTracer): the messages themselves and each kind of
// control (IHAVE, IWANT, IDONTWANT, mesh upkeep), counted as their encoded
// sizes in the RPCs GossipSub hands to its outbound queues and reads.
// Framing between the parts of an RPC (a few bytes each) is not counted.
type rpcMeter struct {
	in, out rpcParts
}

// rpcParts are the bytes of one direction by part, and the message copies.
type rpcParts struct {
	msgs, copies, ihave, iwant, idontwant, mesh, subs atomic.Int64
}

// rpcMark is an rpcMeter's totals at a moment (or a difference of two).
type rpcMark struct {
	in, out rpcCounts
}

type rpcCounts struct {
	msgs, copies, ihave, iwant, idontwant, mesh, subs int64
}

func (p *rpcParts) count(rpc *lpubsub.RPC) {
	for _, m := range rpc.Publish {
		p.msgs.Add(int64(proto.Size(m)))
		p.copies.Add(1)
	}
	for _, s := range rpc.Subscriptions {
		p.subs.Add(int64(proto.Size(s)))
	}
	c := rpc.Control
	if c == nil {
		return
	}
	for _, x := range c.Ihave {
		p.ihave.Add(int64(proto.Size(x)))
	}
	for _, x := range c.Iwant {
		p.iwant.Add(int64(proto.Size(x)))
	}
	for _, x := range c.Idontwant {
		p.idontwant.Add(int64(proto.Size(x)))
	}
	for _, x := range c.Graft {
		p.mesh.Add(int64(proto.Size(x)))
	}
	for _, x := range c.Prune {
		p.mesh.Add(int64(proto.Size(x)))
	}
}

func (p *rpcParts) load() rpcCounts {
	return rpcCounts{msgs: p.msgs.Load(), copies: p.copies.Load(), ihave: p.ihave.Load(), iwant: p.iwant.Load(),
		idontwant: p.idontwant.Load(), mesh: p.mesh.Load(), subs: p.subs.Load()}
}

func (m *rpcMeter) mark() rpcMark { return rpcMark{in: m.in.load(), out: m.out.load()} }

func (c rpcCounts) minus(d rpcCounts) rpcCounts {
	return rpcCounts{msgs: c.msgs - d.msgs, copies: c.copies - d.copies, ihave: c.ihave - d.ihave, iwant: c.iwant - d.iwant,
		idontwant: c.idontwant - d.idontwant, mesh: c.mesh - d.mesh, subs: c.subs - d.subs}
}

func (b rpcMark) since(a rpcMark) rpcMark {
	return rpcMark{in: b.in.minus(a.in), out: b.out.minus(a.out)}
}

func (m *rpcMeter) RecvRPC(rpc *lpubsub.RPC)                 { m.in.count(rpc) }
func (m *rpcMeter) SendRPC(rpc *lpubsub.RPC, _ peer.ID)      { m.out.count(rpc) }
func (m *rpcMeter) OnNewOutboundStream(peer.ID, protocol.ID) {}
func (m *rpcMeter) OnClosedOutboundStream(peer.ID)           {}
func (m *rpcMeter) Join(string)                              {}
func (m *rpcMeter) Leave(string)                             {}
func (m *rpcMeter) Graft(peer.ID, string)                    {}
func (m *rpcMeter) Prune(peer.ID, string)                    {}
func (m *rpcMeter) ValidateMessage(*lpubsub.Message)         {}
func (m *rpcMeter) DeliverMessage(*lpubsub.Message)          {}
func (m *rpcMeter) RejectMessage(*lpubsub.Message, string)   {}
func (m *rpcMeter) DuplicateMessage(*lpubsub.Message)        {}
func (m *rpcMeter) ThrottlePeer(peer.ID)                     {}
func (m *rpcMeter) SendRPCCompleted(*lpubsub.RPC, peer.ID, time.Duration) {
}
func (m *rpcMeter) DropRPC(*lpubsub.RPC, peer.ID)         {}
func (m *rpcMeter) UndeliverableMessage(*lpubsub.Message) {}

var _ lpubsub.RawTracer = (*rpcMeter)(nil)
