package netlab

import "fmt"

// NATType is how a home router maps its hosts' connections to its public
// address. Both kinds filter alike: what comes in from the internet passes
// only as part of a connection the LAN opened (conntrack's established or
// related), so from the very address and port the LAN host sent to
// (address- and port-dependent filtering); anything else addressed to the
// router stops there (it has no services: a closed port answers with
// ICMP port unreachable or a TCP reset). Neither kind hairpins.
type NATType int

const (
	// NoNAT is a public host's: it has no router.
	NoNAT NATType = iota
	// EndpointIndependent maps one LAN socket to one public port for every
	// destination, the LAN port itself where it is free (nftables'
	// plain masquerade): the NAT that hole punching gets through.
	EndpointIndependent
	// Symmetric maps each destination to a new random public port
	// (masquerade fully-random): hole punching fails, a relay is needed.
	Symmetric
)

func (n NATType) String() string {
	switch n {
	case NoNAT:
		return "no NAT"
	case EndpointIndependent:
		return "endpoint-independent"
	case Symmetric:
		return "symmetric"
	}
	return fmt.Sprintf("NATType(%d)", int(n))
}

// natRuleset is a router's nftables ruleset: masquerade out of the WAN
// interface, and forward from the LAN out, and back in only what belongs
// to connections the LAN opened. UDP, TCP and ICMP alike. What arrives on
// the WAN for the router itself, unasked, is dropped without an answer,
// as home routers do: a reset or an ICMP error would end a hole punch
// whose first packet arrives before the other side's went out.
func natRuleset(n NATType) string {
	masquerade := "masquerade"
	if n == Symmetric {
		masquerade = "masquerade fully-random"
	}
	return `table ip netlab {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan" ` + masquerade + `
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state established,related accept
		iifname "lan" oifname "wan" accept
	}
	chain input {
		type filter hook input priority filter; policy accept;
		iifname "wan" ct state established,related accept
		iifname "wan" drop
	}
}
`
}
