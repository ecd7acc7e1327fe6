package netlab

import (
	"net/netip"
	"testing"
)

func TestMappings(t *testing.T) {
	// Lines as /proc/net/nf_conntrack shows them in a router namespace.
	const table = `ipv4     2 udp      17 29 src=198.19.1.2 dst=198.18.0.10 sport=40100 dport=7000 src=198.18.0.10 dst=198.18.0.100 sport=7000 dport=40100 mark=0 zone=0 use=2
ipv4     2 tcp      6 119 TIME_WAIT src=198.19.1.2 dst=198.18.0.10 sport=38882 dport=7001 src=198.18.0.10 dst=198.18.0.100 sport=7001 dport=38882 [ASSURED] mark=0 zone=0 use=2
ipv4     2 udp      17 29 src=198.18.0.10 dst=198.18.0.100 sport=51000 dport=7100 [UNREPLIED] src=198.18.0.100 dst=198.18.0.10 sport=7100 dport=51000 mark=0 zone=0 use=2
ipv4     2 udp      17 29 src=198.19.1.20 dst=198.18.0.10 sport=40100 dport=7000 src=198.18.0.10 dst=198.18.0.100 sport=7000 dport=40100 mark=0 zone=0 use=2
ipv4     2 udp      17 29 src=198.19.1.2 dst=198.18.0.10 sport=40101 dport=7000 src=198.18.0.10 dst=198.18.0.102 sport=7000 dport=40101 mark=0 zone=0 use=2
`
	for _, tc := range []struct {
		lan, pub string
		want     int
	}{
		{"198.19.1.2", "198.18.0.100", 2},  // the UDP and TCP mappings; not the inbound one, nor .20's
		{"198.19.1.2", "198.18.0.102", 1},  // the new address's
		{"198.19.1.20", "198.18.0.100", 1}, // another host's
		{"198.19.1.2", "198.18.0.101", 0},
	} {
		got := mappings(table, netip.MustParseAddr(tc.lan), netip.MustParseAddr(tc.pub))
		if len(got) != tc.want {
			t.Errorf("mappings of %s to %s: %q, want %d", tc.lan, tc.pub, got, tc.want)
		}
	}
}
