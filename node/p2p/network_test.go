package p2p

import (
	"testing"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/internal/loopback"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Process-wide goroutines that libp2p and its dependencies start once.
		goleak.IgnoreAnyFunction("github.com/ipfs/go-log/v2.(*ZapEventLogger).Warn"),
		goleak.IgnoreTopFunction("github.com/libp2p/go-libp2p/p2p/transport/quicreuse.(*reuse).gc"),
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).run"),
	)
}

// newTestNetwork is a Network on loopback behind a gater that refuses
// anything else; cleanup closes it and checks the gater refused nothing.
func newTestNetwork(t *testing.T) *Network {
	t.Helper()
	return newTestNetworkConfig(t, Config{})
}

// newTestNetworkConfig is newTestNetwork with cfg's other fields.
func newTestNetworkConfig(t *testing.T, cfg Config) *Network {
	t.Helper()
	key, _, err := lcrypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &loopback.Gater{}
	cfg.Key, cfg.ListenAddrs, cfg.Gater = key, []string{"/ip4/127.0.0.1/tcp/0"}, g
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		if err := n.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if r := g.Refused(); r != 0 {
			t.Errorf("gater refused %d non-loopback dials or connections", r)
		}
	})
	return n
}

// TestConnectForgetsDialBackoff: a contact whose addresses libp2p has put on
// dial backoff (after dials failed while it was down) is dialled at once
// when the outbox retries, not after the backoff (5 s and more) runs out.
func TestConnectForgetsDialBackoff(t *testing.T) {
	a := newTestNetwork(t)
	b := newTestNetwork(t)
	h := a.host // the host as built: Host() wraps its network
	sw, ok := h.Network().(*swarm.Swarm)
	if !ok {
		t.Fatalf("the host's network is a %T, not a swarm", h.Network())
	}
	addrs := b.Host().Addrs()
	h.Peerstore().AddAddrs(b.Host().ID(), addrs, peerstore.TempAddrTTL)
	for _, addr := range addrs {
		sw.Backoff().AddBackoff(b.Host().ID(), addr)
	}
	if err := a.Connect(t.Context(), b.Host().ID()); err != nil {
		t.Fatalf("connect with the addresses on backoff: %v", err)
	}
}

func TestAllLoopback(t *testing.T) {
	for _, tc := range []struct {
		addrs []string
		want  bool
	}{
		{[]string{"/ip4/127.0.0.1/tcp/0", "/ip6/::1/udp/0/quic-v1"}, true},
		{[]string{"/ip4/127.0.0.1/tcp/0", "/ip4/198.18.0.1/tcp/0"}, false},
		{[]string{"/dns4/localhost/tcp/1"}, false},
		{[]string{"not an address"}, false},
	} {
		if got := AllLoopback(tc.addrs); got != tc.want {
			t.Errorf("AllLoopback(%q) = %v, want %v", tc.addrs, got, tc.want)
		}
	}
}
