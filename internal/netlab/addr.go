package netlab

import (
	"fmt"
	"net/netip"
)

// The address plan. Everything the lab assigns lies in Range.
var (
	// Range is the only range the lab assigns addresses from: 198.18.0.0/15,
	// set aside for benchmarking (RFC 2544), never routed on the internet.
	Range = netip.MustParsePrefix("198.18.0.0/15")
	// Internet is the lab's public network: public hosts and routers' WAN sides.
	Internet = netip.MustParsePrefix("198.18.0.0/24")
)

// Where hosts and routers take their addresses on the internet: public
// hosts from .10, routers' WAN sides (and their changes) from .100.
const (
	firstPublicHost = 10
	lastPublicHost  = 99
	firstWAN        = 100
	lastWAN         = 254
	maxLANs         = 254 // LAN n is 198.19.n.0/24, n in 1..254
)

// internetAddr is host number n on the internet.
func internetAddr(n int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 18, 0, byte(n)})
}

// lanAddr is host number h on LAN n: the router is 1, its host 2.
func lanAddr(n, h int) netip.Addr {
	return netip.AddrFrom4([4]byte{198, 19, byte(n), byte(h)})
}

// cidr writes a as an interface address on a /24, refusing any address
// outside Range: the lab assigns nothing else.
func cidr(a netip.Addr) (string, error) {
	if !Range.Contains(a) {
		return "", fmt.Errorf("netlab: %s is outside the lab range %s", a, Range)
	}
	return netip.PrefixFrom(a, 24).String(), nil
}

// allocator hands out the internet's addresses and the LANs' numbers.
type allocator struct {
	publicHosts, wans, lans int
}

func (a *allocator) publicHost() (netip.Addr, error) {
	n := firstPublicHost + a.publicHosts
	if n > lastPublicHost {
		return netip.Addr{}, fmt.Errorf("netlab: no more than %d public hosts", lastPublicHost-firstPublicHost+1)
	}
	a.publicHosts++
	return internetAddr(n), nil
}

// wan never hands out an address twice, so a router's new address was
// nobody's before (no stale ARP or conntrack entry names it).
func (a *allocator) wan() (netip.Addr, error) {
	n := firstWAN + a.wans
	if n > lastWAN {
		return netip.Addr{}, fmt.Errorf("netlab: no more than %d router addresses (new public IPs included)", lastWAN-firstWAN+1)
	}
	a.wans++
	return internetAddr(n), nil
}

func (a *allocator) lan() (int, error) {
	if a.lans >= maxLANs {
		return 0, fmt.Errorf("netlab: no more than %d NATed hosts", maxLANs)
	}
	a.lans++
	return a.lans, nil
}
