package p2p

import (
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

func TestFromListenPort(t *testing.T) {
	listen := []ma.Multiaddr{
		ma.StringCast("/ip4/198.19.1.2/tcp/4001"),
		ma.StringCast("/ip4/0.0.0.0/udp/4001/quic-v1"),
	}
	tests := []struct {
		local string
		want  bool
	}{
		{"/ip4/198.19.1.2/tcp/4001", true},                      // dialled from the listen port (reuseport)
		{"/ip4/198.19.1.2/tcp/55588", false},                    // dialled from a passing port
		{"/ip4/198.19.9.9/tcp/4001", false},                     // another address on the same port
		{"/ip4/198.19.1.2/udp/4001/quic-v1", true},              // any address: the listener is on all
		{"/ip4/198.19.1.2/udp/4002/quic-v1", false},             // another port
		{"/ip4/198.19.1.2/p2p-circuit", false},                  // not an IP transport address
		{"/ip6/::1/tcp/4001", false},                            // another family
		{"/ip4/198.19.1.2/udp/4001/quic-v1/webtransport", true}, // thin waist matches
	}
	for _, tc := range tests {
		if got := fromListenPort(ma.StringCast(tc.local), listen); got != tc.want {
			t.Errorf("fromListenPort(%s) = %v, want %v", tc.local, got, tc.want)
		}
	}
}

// TestStatusOfALoopbackNode: a node that listens only on loopback serves
// the DHT (every peer that can reach it can dial it), says it is private,
// and holds no relay reservation.
func TestStatusOfALoopbackNode(t *testing.T) {
	n := newTestNetwork(t)
	if got := n.DHTMode(); got != "server" {
		t.Errorf("DHTMode = %q, want server", got)
	}
	if got := n.Reachability().String(); got != "Private" {
		t.Errorf("Reachability = %s, want Private", got)
	}
	if got := n.Relays(); len(got) != 0 {
		t.Errorf("Relays = %v, want none", got)
	}
}
