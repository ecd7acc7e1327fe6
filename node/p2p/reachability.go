package p2p

import (
	"net/netip"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"

	"github.com/backchannel/backchannel/internal/loopback"
)

// Reachability policy (see New for the DHT mode that follows from it):
//
//   - a node that listens only on loopback runs no NAT traversal at all;
//   - a helper declares itself publicly reachable: it serves the DHT, relays
//     for others (circuit relay v2) and answers AutoNAT (v1 and v2) probes;
//   - any other node runs AutoNAT v2 and the relay transport. When none of
//     its addresses is public (it sits behind a NAT) and no port mapping was
//     asked for, it knows it cannot be dialled and says so at once
//     (reachability private) instead of waiting for AutoNAT to find out:
//     that starts relay reservations and hole punching.
func reachabilityOptions(cfg Config, relays *reservations) []libp2p.Option {
	if AllLoopback(cfg.ListenAddrs) {
		return []libp2p.Option{libp2p.DisableRelay()}
	}
	opts := []libp2p.Option{
		libp2p.EnableRelay(),
		libp2p.EnableAutoNATv2(),
		libp2p.AddrsFactory(relays.addrsFactory),
	}
	switch {
	case cfg.Helper:
		opts = append(opts,
			libp2p.ForceReachabilityPublic(),
			libp2p.EnableNATService(),
			libp2p.EnableRelayService(relayv2.WithResources(helperRelayResources())),
		)
	case !cfg.EnableNATPortMap && !anyPublic(listenAddrs(cfg.ListenAddrs), cfg.PublicRanges):
		opts = append(opts, libp2p.ForceReachabilityPrivate())
	}
	return opts
}

// helperRelayResources are a helper's relay limits: go-libp2p's defaults
// (2 minutes and 128 KiB per relayed connection) are made for a public
// relay of strangers; a community helper carries its members' chats until
// hole punching makes their links direct, and for good when it cannot
// (a symmetric NAT), so it allows longer and larger circuits. The relay
// resets a circuit at its limit and the peers open a new one.
func helperRelayResources() relayv2.Resources {
	r := relayv2.DefaultResources()
	r.Limit = &relayv2.RelayLimit{Duration: 30 * time.Minute, Data: 16 << 20}
	return r
}

// listenAddrs parses the listen addresses and expands unspecified ones
// (0.0.0.0, ::) to the machine's interface addresses.
func listenAddrs(addrs []string) []ma.Multiaddr {
	var out []ma.Multiaddr
	var ifaces []ma.Multiaddr
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			continue
		}
		ip, err := manet.ToIP(a)
		if err != nil || !ip.IsUnspecified() {
			out = append(out, a)
			continue
		}
		if ifaces == nil {
			ifaces, _ = manet.InterfaceMultiaddrs()
		}
		out = append(out, ifaces...)
	}
	return out
}

// anyPublic reports whether one of addrs is public: go-libp2p's idea of
// public, or in one of the extra ranges.
func anyPublic(addrs []ma.Multiaddr, extra []netip.Prefix) bool {
	for _, a := range addrs {
		if isPublic(a, extra) {
			return true
		}
	}
	return false
}

// isPublic reports whether a is a public IP address (go-libp2p's rule) or
// in one of the extra ranges.
func isPublic(a ma.Multiaddr, extra []netip.Prefix) bool {
	return manet.IsPublicAddr(a) || loopback.InRanges(a, extra)
}

// Reachability is what the node knows of whether others can dial it.
func (n *Network) Reachability() network.Reachability {
	if n.cfg.Helper {
		return network.ReachabilityPublic
	}
	if n.loopbackOnly() {
		return network.ReachabilityPrivate
	}
	return reachability(n.host)
}

// DHTMode is "server" or "client": the mode the DHT runs in now. A DHT
// in server mode answers its protocol, and only then.
func (n *Network) DHTMode() string {
	kad := protocol.ID(DHTProtocolPrefix + "/kad/1.0.0")
	if slices.Contains(n.host.Mux().Protocols(), kad) {
		return "server"
	}
	return "client"
}
