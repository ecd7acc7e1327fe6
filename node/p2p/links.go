package p2p

import (
	"context"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// relayedOK is the node's host as its services see it: a stream may run
// over a relayed ("limited") connection when that is all there is to the
// peer. go-libp2p refuses that unless asked, since a public relay limits
// what it carries; our relays are helpers the user chose, and a contact
// behind a NAT that defeats hole punching (a symmetric one) is reachable
// in no other way. When a direct connection exists, libp2p prefers it.
type relayedOK struct{ host.Host }

// Network is the host's network, with a relayed connection counted as a
// connection (see relayedNetwork).
func (h relayedOK) Network() network.Network { return relayedNetwork{h.Host.Network()} }

// relayedNetwork reports a peer reached only through a relay as Connected,
// not Limited. GossipSub (go-libp2p-pubsub) runs only with peers it sees
// Connected, so without this a contact behind a symmetric NAT, whose every
// link is relayed, would get no room or group message live, only through
// the next sync.
type relayedNetwork struct{ network.Network }

// Connectedness is Connected for a peer with only relayed connections.
func (n relayedNetwork) Connectedness(p peer.ID) network.Connectedness {
	if c := n.Network.Connectedness(p); c != network.Limited {
		return c
	}
	return network.Connected
}

// NewStream opens a stream to p, over a relayed connection if need be.
func (h relayedOK) NewStream(ctx context.Context, p peer.ID, pids ...protocol.ID) (network.Stream, error) {
	return h.Host.NewStream(network.WithAllowLimitedConn(ctx, "backchannel"), p, pids...)
}

// Link kinds, as LinkKind reports them.
const (
	LinkDirect  = "direct"
	LinkRelayed = "relayed"
)

// LinkKind says how the node is connected to p: LinkDirect when at least
// one connection is direct, LinkRelayed when all go through a relay, ""
// when there is none.
func (n *Network) LinkKind(p peer.ID) string {
	kind := ""
	for _, c := range n.host.Network().ConnsToPeer(p) {
		if c.Stat().Limited || isCircuit(c.RemoteMultiaddr()) {
			kind = LinkRelayed
			continue
		}
		return LinkDirect
	}
	return kind
}

// Relays returns the relays the node holds a reservation on.
func (n *Network) Relays() []peer.ID {
	if n.relays == nil {
		return nil
	}
	return n.relays.relays()
}
