package pubsub

import (
	"sync"
	"time"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// meshTracker follows, through GossipSub's trace events, which peers are in
// each topic's mesh and which have an open outbound stream. A peer that is
// both is one a publish reaches, and readiness waits for one.
//
// GossipSub's own readiness (MinTopicSize) is not enough: it counts a peer
// whose subscription has arrived, but whose outbound stream GossipSub has
// not set up yet, as a floodsub peer, and a publish made then is dropped
// ("no send queue for peer"). That happens to a node that publishes right
// after connecting and joining.
//
// GossipSub calls the tracer from its event loop; the mutex is for the
// readers (readiness checks run in that loop too, tests do not).
type meshTracker struct {
	mu      sync.Mutex
	mesh    map[string]map[peer.ID]bool
	streams map[peer.ID]bool
	changed chan struct{} // one signal, for tests waiting on a mesh: it changed
	gone    func(peer.ID) // if set, told of a peer whose stream closed
}

func newMeshTracker() *meshTracker {
	return &meshTracker{mesh: make(map[string]map[peer.ID]bool), streams: make(map[peer.ID]bool), changed: make(chan struct{}, 1)}
}

// ready reports whether topic's mesh holds a peer with an open outbound
// stream. It is an lpubsub.RouterReady.
func (m *meshTracker) ready(_ lpubsub.PubSubRouter, topic string) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p := range m.mesh[topic] {
		if m.streams[p] {
			return true, nil
		}
	}
	return false, nil
}

// size returns how many peers topic's mesh holds.
func (m *meshTracker) size(topic string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.mesh[topic])
}

func (m *meshTracker) update(fn func()) {
	m.mu.Lock()
	fn()
	m.mu.Unlock()
	select {
	case m.changed <- struct{}{}:
	default:
	}
}

// Graft implements lpubsub.RawTracer.
func (m *meshTracker) Graft(p peer.ID, topic string) {
	m.update(func() {
		if m.mesh[topic] == nil {
			m.mesh[topic] = make(map[peer.ID]bool)
		}
		m.mesh[topic][p] = true
	})
}

// Prune implements lpubsub.RawTracer.
func (m *meshTracker) Prune(p peer.ID, topic string) {
	m.update(func() { delete(m.mesh[topic], p) })
}

// Leave implements lpubsub.RawTracer.
func (m *meshTracker) Leave(topic string) {
	m.update(func() { delete(m.mesh, topic) })
}

// OnNewOutboundStream implements lpubsub.RawTracer.
func (m *meshTracker) OnNewOutboundStream(p peer.ID, _ protocol.ID) {
	m.update(func() { m.streams[p] = true })
}

// OnClosedOutboundStream implements lpubsub.RawTracer: GossipSub drops the
// peer from every mesh without a Prune event.
func (m *meshTracker) OnClosedOutboundStream(p peer.ID) {
	m.update(func() {
		delete(m.streams, p)
		for _, peers := range m.mesh {
			delete(peers, p)
		}
	})
	if m.gone != nil {
		m.gone(p)
	}
}

// The rest of lpubsub.RawTracer: nothing to follow.
func (m *meshTracker) Join(string)                                           {}
func (m *meshTracker) ValidateMessage(*lpubsub.Message)                      {}
func (m *meshTracker) DeliverMessage(*lpubsub.Message)                       {}
func (m *meshTracker) RejectMessage(*lpubsub.Message, string)                {}
func (m *meshTracker) DuplicateMessage(*lpubsub.Message)                     {}
func (m *meshTracker) ThrottlePeer(peer.ID)                                  {}
func (m *meshTracker) RecvRPC(*lpubsub.RPC)                                  {}
func (m *meshTracker) SendRPC(*lpubsub.RPC, peer.ID)                         {}
func (m *meshTracker) SendRPCCompleted(*lpubsub.RPC, peer.ID, time.Duration) {}
func (m *meshTracker) DropRPC(*lpubsub.RPC, peer.ID)                         {}
func (m *meshTracker) UndeliverableMessage(*lpubsub.Message)                 {}
