package netlab

import (
	"fmt"
	"net/netip"
)

// PublicHost adds a host on the internet, with the next free address from
// 198.18.0.10.
func (l *Lab) PublicHost(name string) *Host {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	ns, err := l.claim(name)
	l.must(err)
	ip, err := l.alloc.publicHost()
	l.must(err)
	l.must(l.addNamespace(ns))
	l.must(l.attach(ns, "eth0", ip))
	return &Host{lab: l, name: name, ns: ns, ip: ip}
}

// NATHost adds a host behind a home router of its own, doing nat: the host
// is 198.19.N.2 on the LAN 198.19.N.0/24, its router 198.19.N.1 there and
// the next free address from 198.18.0.100 on the internet. The host's
// default route is its router; the router has no default route, only the
// LAN and the internet.
func (l *Lab) NATHost(name string, nat NATType) *Host {
	l.t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	if nat != EndpointIndependent && nat != Symmetric {
		l.t.Fatalf("netlab: NATHost %q: NAT type %v", name, nat)
	}
	ns, err := l.claim(name)
	l.must(err)
	n, err := l.alloc.lan()
	l.must(err)
	wan, err := l.alloc.wan()
	l.must(err)
	r := &router{ns: ns + "-router", nat: nat, lan: n, wan: wan}
	h := &Host{lab: l, name: name, ns: ns, ip: lanAddr(n, 2), router: r}

	l.must(l.addNamespace(r.ns))
	l.must(l.addNamespace(h.ns))
	l.must(l.attach(r.ns, "wan", wan))
	l.must(l.wireLAN(r, h))
	l.must(sysctlIn(r.ns, "net.ipv4.ip_forward=1"))
	l.must(nftIn(r.ns, natRuleset(nat), false))
	return h
}

// attach plugs interface dev of namespace ns into the internet's bridge,
// with address a.
func (l *Lab) attach(ns, dev string, a netip.Addr) error {
	addr, err := cidr(a)
	if err != nil {
		return err
	}
	port := fmt.Sprintf("p%d", l.ports)
	l.ports++
	// The pair is made inside ns with its peer inside the internet:
	// nothing is made in the root namespace, not even for a moment.
	err = ipIn(ns,
		fmt.Sprintf("link add %s type veth peer name %s netns %s", dev, port, l.inet),
		fmt.Sprintf("addr add %s dev %s", addr, dev),
		fmt.Sprintf("link set %s up", dev),
	)
	if err != nil {
		return err
	}
	return ipIn(l.inet,
		fmt.Sprintf("link set %s master br0", port),
		fmt.Sprintf("link set %s up", port),
	)
}

// wireLAN joins a router ("lan", .1) and its host ("eth0", .2) by a veth
// pair and routes the host through the router.
func (l *Lab) wireLAN(r *router, h *Host) error {
	gw, err := cidr(lanAddr(r.lan, 1))
	if err != nil {
		return err
	}
	self, err := cidr(h.ip)
	if err != nil {
		return err
	}
	err = ipIn(r.ns,
		"link add lan type veth peer name eth0 netns "+h.ns,
		"addr add "+gw+" dev lan",
		"link set lan up",
	)
	if err != nil {
		return err
	}
	return ipIn(h.ns,
		"addr add "+self+" dev eth0",
		"link set eth0 up",
		"route add default via "+lanAddr(r.lan, 1).String(),
	)
}
