package node

import (
	"net"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// LoopbackGater is a connection gater that allows only loopback addresses
// (127.0.0.0/8 and ::1) and counts what it refuses. A node whose listen
// addresses are all loopback uses it, and so does every test: a test asserts
// Refused() == 0 to prove nothing tried to leave the machine.
type LoopbackGater struct {
	refused atomic.Int64
}

// Refused returns how many dials and connections the gater has refused.
func (g *LoopbackGater) Refused() int64 { return g.refused.Load() }

func (g *LoopbackGater) allow(a ma.Multiaddr) bool {
	if isLoopback(a) {
		return true
	}
	g.refused.Add(1)
	return false
}

func isLoopback(a ma.Multiaddr) bool {
	ip, err := manet.ToIP(a)
	if err != nil {
		return false // DNS and other non-IP addresses resolve elsewhere: refuse
	}
	return ip.IsLoopback() && !ip.Equal(net.IPv4zero)
}

// InterceptPeerDial allows every peer; addresses are checked one by one.
func (g *LoopbackGater) InterceptPeerDial(peer.ID) bool { return true }

// InterceptAddrDial allows loopback addresses only.
func (g *LoopbackGater) InterceptAddrDial(_ peer.ID, a ma.Multiaddr) bool { return g.allow(a) }

// InterceptAccept allows connections from loopback addresses only.
func (g *LoopbackGater) InterceptAccept(c network.ConnMultiaddrs) bool {
	return g.allow(c.RemoteMultiaddr())
}

// InterceptSecured allows every secured connection (already filtered).
func (g *LoopbackGater) InterceptSecured(network.Direction, peer.ID, network.ConnMultiaddrs) bool {
	return true
}

// InterceptUpgraded allows every upgraded connection.
func (g *LoopbackGater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}
