package p2p

import (
	"errors"

	"github.com/libp2p/go-libp2p/core/host"
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
func newHolePunching(h host.Host, addrs func() []ma.Multiaddr) (*holepunch.Service, error) {
	ids, ok := h.(interface{ IDService() identify.IDService })
	if !ok {
		return nil, errors.New("host has no identify service")
	}
	return holepunch.NewService(h, ids.IDService(), addrs)
}
