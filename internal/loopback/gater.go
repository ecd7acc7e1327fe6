// Package loopback holds a connection gater that keeps a libp2p host on
// loopback addresses (and on ranges it is told to allow, such as a test
// lab's), for nodes that listen only there and for every test.
package loopback

import (
	"net"
	"net/netip"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/control"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// Gater is a connection gater that allows only loopback addresses
// (127.0.0.0/8 and ::1), and those in Allow, and counts what it refuses. A
// node whose listen addresses are all loopback uses it, and so does every
// test: a test asserts Refused() == 0 to prove nothing tried to leave the
// machine (or, in a namespace lab, the lab's range).
type Gater struct {
	// Allow lists ranges allowed besides loopback; set it before use.
	Allow []netip.Prefix

	refused atomic.Int64
}

// Refused returns how many dials and connections the gater has refused.
func (g *Gater) Refused() int64 { return g.refused.Load() }

func (g *Gater) allow(a ma.Multiaddr) bool {
	if IsLoopback(a) || InRanges(a, g.Allow) {
		return true
	}
	g.refused.Add(1)
	return false
}

// InRanges reports whether a is an IP address in one of ranges (an IPv4
// address written as IPv6, ::ffff:a.b.c.d, counts as IPv4).
func InRanges(a ma.Multiaddr, ranges []netip.Prefix) bool {
	if len(ranges) == 0 {
		return false
	}
	ip, err := manet.ToIP(a)
	if err != nil {
		return false
	}
	addr, ok := netip.AddrFromSlice(ip)
	if !ok {
		return false
	}
	addr = addr.Unmap()
	for _, p := range ranges {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// IsLoopback reports whether a is an IP address on loopback. DNS and other
// non-IP addresses are not: they resolve elsewhere.
func IsLoopback(a ma.Multiaddr) bool {
	ip, err := manet.ToIP(a)
	if err != nil {
		return false // DNS and other non-IP addresses resolve elsewhere: refuse
	}
	return ip.IsLoopback() && !ip.Equal(net.IPv4zero)
}

// InterceptPeerDial allows every peer; addresses are checked one by one.
func (g *Gater) InterceptPeerDial(peer.ID) bool { return true }

// InterceptAddrDial allows loopback and allowed addresses only.
func (g *Gater) InterceptAddrDial(_ peer.ID, a ma.Multiaddr) bool { return g.allow(a) }

// InterceptAccept allows connections from loopback and allowed addresses only.
func (g *Gater) InterceptAccept(c network.ConnMultiaddrs) bool {
	return g.allow(c.RemoteMultiaddr())
}

// InterceptSecured allows every secured connection (already filtered).
func (g *Gater) InterceptSecured(network.Direction, peer.ID, network.ConnMultiaddrs) bool {
	return true
}

// InterceptUpgraded allows every upgraded connection.
func (g *Gater) InterceptUpgraded(network.Conn) (bool, control.DisconnectReason) {
	return true, 0
}
