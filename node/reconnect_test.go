package node

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

// TestRestartFindsPeersAgain: nodes that restart find each other with no
// new invite. Phase 1: both restart on the same addresses and connect at
// start with nothing to send. Phase 2: a bootstrap peer given once is
// remembered; B comes back on a new port, and A, with a message queued,
// finds B's new address through the DHT (on the remembered bootstrap
// peer) and delivers.
func TestRestartFindsPeersAgain(t *testing.T) {
	useTCP(t) // same keys restart; real ports
	boot := newTestNode(t, "")
	bootAddr := boot.Addrs()[0].String()
	withBootstrap := func(c *Config) { c.Bootstrap = []string{bootAddr} }
	homeA, homeB := t.TempDir(), t.TempDir()
	a := newTestNode(t, homeA, withBootstrap)
	b := newTestNode(t, homeB, withBootstrap)
	if _, err := a.AddContact(t.Context(), b.invite(), "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddContact(t.Context(), a.invite(), "alice"); err != nil {
		t.Fatal(err)
	}
	portOf := func(tn *testNode) string { return tn.net.Host().Addrs()[0].String() }
	addrA, addrB := portOf(a), portOf(b)
	a.stop()
	b.stop()

	// Phase 1: same addresses, nothing queued, no bootstrap flag.
	at := func(addr string) func(*Config) { return func(c *Config) { c.ListenAddrs = []string{addr} } }
	a = newTestNode(t, homeA, at(addrA))
	b = newTestNode(t, homeB, at(addrB))
	connected := func(x, y *testNode) func() bool {
		return func() bool { return x.net.Host().Network().Connectedness(y.ID()) == network.Connected }
	}
	a.waitUntil("A connected to B after both restarted", connected(a, b))
	a.waitUntil("A connected to the remembered bootstrap peer", connected(a, boot))
	b.waitUntil("B connected to the remembered bootstrap peer", connected(b, boot))
	a.stop()
	b.stop()

	// Phase 2: B comes back on a new port; A has a message queued for B.
	b = newTestNode(t, homeB)
	b.waitUntil("B connected to the remembered bootstrap peer", connected(b, boot))
	a = newTestNode(t, homeA, at(addrA))
	m := a.send(b.ID(), "found you")
	a.waitState(b.ID(), m.ID, storage.StateDelivered)
	if got := b.message(a.ID(), m.ID); got.Body != "found you" {
		t.Fatalf("B holds %q, want %q", got.Body, "found you")
	}
	if st := a.Status(); st.RoutingTableSize == 0 || st.DHTMode != "server" {
		t.Errorf("A's status after restart: DHT %s mode with %d peers, want server with peers", st.DHTMode, st.RoutingTableSize)
	}
	var links []peer.ID
	for _, l := range a.Status().Links {
		links = append(links, l.Peer)
		if l.Kind != "direct" {
			t.Errorf("link to %s is %q, want direct", l.Peer, l.Kind)
		}
	}
	if len(links) != 1 || links[0] != b.ID() {
		t.Errorf("A's status links = %v, want B", links)
	}
}
