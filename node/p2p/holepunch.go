package p2p

import (
	"errors"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	"github.com/libp2p/go-libp2p/p2p/protocol/identify"
	ma "github.com/multiformats/go-multiaddr"
)

// newHolePunching starts go-libp2p's DCUtR service on h with addrs as the
// addresses it offers. libp2p.EnableHolePunching would offer only the
// addresses go-libp2p calls public, which leaves a node whose public side
// is in a test lab's range (or whose one observer is not enough for the
// host's own list) with nothing to offer, so the node builds the service
// itself, with the same parts.
func newHolePunching(h host.Host, addrs func() []ma.Multiaddr, punched *punchedPeers) (*holepunch.Service, error) {
	ids, ok := h.(interface{ IDService() identify.IDService })
	if !ok {
		return nil, errors.New("host has no identify service")
	}
	return holepunch.NewService(h, ids.IDService(), addrs, holepunch.WithTracer(punched))
}

// punchedPeers remembers the peers a hole punch made a direct connection
// with, for status: a link that is direct because a hole was punched
// began as a relayed one. Bounded; the oldest go first.
type punchedPeers struct {
	mu    sync.Mutex
	peers map[peer.ID]time.Time
}

const maxPunched = 256

// Trace records the successful end of a hole punch.
func (pp *punchedPeers) Trace(evt *holepunch.Event) {
	end, ok := evt.Evt.(*holepunch.EndHolePunchEvt)
	if !ok || !end.Success {
		return
	}
	pp.mu.Lock()
	defer pp.mu.Unlock()
	if pp.peers == nil {
		pp.peers = map[peer.ID]time.Time{}
	}
	pp.peers[evt.Remote] = time.Now()
	for len(pp.peers) > maxPunched {
		var oldest peer.ID
		for p, at := range pp.peers {
			if oldest == "" || at.Before(pp.peers[oldest]) {
				oldest = p
			}
		}
		delete(pp.peers, oldest)
	}
}

// has reports whether a hole punch made a direct connection with p.
func (pp *punchedPeers) has(p peer.ID) bool {
	pp.mu.Lock()
	defer pp.mu.Unlock()
	_, ok := pp.peers[p]
	return ok
}

// HolePunched reports whether a hole punch made a direct connection with
// p (since the node started).
func (n *Network) HolePunched(p peer.ID) bool { return n.punched.has(p) }
