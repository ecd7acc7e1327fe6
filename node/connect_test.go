package node

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// TestConnectForgetsDialBackoff: a contact whose addresses libp2p has put on
// dial backoff (after dials failed while it was down) is dialled at once
// when the outbox retries, not after the backoff (5 s and more) runs out.
func TestConnectForgetsDialBackoff(t *testing.T) {
	a := newTestNode(t, "")
	b := newTestNode(t, "")
	h := a.p2p.host
	sw, ok := h.Network().(*swarm.Swarm)
	if !ok {
		t.Fatalf("the host's network is a %T, not a swarm", h.Network())
	}
	addrs := b.p2p.host.Addrs()
	h.Peerstore().AddAddrs(b.ID(), addrs, peerstore.TempAddrTTL)
	for _, addr := range addrs {
		sw.Backoff().AddBackoff(b.ID(), addr)
	}
	if err := a.connect(t.Context(), b.ID()); err != nil {
		t.Fatalf("connect with the addresses on backoff: %v", err)
	}
}
