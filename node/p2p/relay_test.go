package p2p

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	relayv2 "github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/relay"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/internal/loopback"
)

// relayTestHost is a host on loopback behind a gater, closed at cleanup.
func relayTestHost(t *testing.T, opts ...libp2p.Option) host.Host {
	t.Helper()
	g := &loopback.Gater{}
	h, err := libp2p.New(append([]libp2p.Option{libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.ConnectionGater(g)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.Close()
		if r := g.Refused(); r != 0 {
			t.Errorf("gater refused %d dials or connections", r)
		}
	})
	return h
}

// TestRelayedConnIsEndToEnd: a connection through a helper's relay (the
// helper's own relay settings) is secured between its two ends: each
// side's handshake proves the other's key, so the relay only forwards
// bytes it cannot read or alter unseen, and what one end writes arrives
// whole at the other.
func TestRelayedConnIsEndToEnd(t *testing.T) {
	relay := relayTestHost(t, libp2p.EnableRelayService(relayv2.WithResources(helperRelayResources())), libp2p.ForceReachabilityPublic())
	a := relayTestHost(t, libp2p.EnableRelay())
	b := relayTestHost(t, libp2p.EnableRelay())
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	relayInfo := peer.AddrInfo{ID: relay.ID(), Addrs: relay.Addrs()}
	if err := b.Connect(ctx, relayInfo); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Reserve(ctx, b, relayInfo); err != nil {
		t.Fatalf("reserve: %v", err)
	}
	const proto = protocol.ID("/backchannel/test/relayed/1.0.0")
	got := make(chan []byte, 1)
	b.SetStreamHandler(proto, func(s network.Stream) {
		defer s.Close()
		data, _ := io.ReadAll(s)
		got <- data
	})
	circuit, err := ma.NewMultiaddr("/p2p/" + relay.ID().String() + "/p2p-circuit")
	if err != nil {
		t.Fatal(err)
	}
	var via []ma.Multiaddr
	for _, addr := range relay.Addrs() {
		via = append(via, addr.Encapsulate(circuit))
	}
	if err := a.Connect(ctx, peer.AddrInfo{ID: b.ID(), Addrs: via}); err != nil {
		t.Fatalf("connect through the relay: %v", err)
	}
	s, err := a.NewStream(network.WithAllowLimitedConn(ctx, "test"), b.ID(), proto)
	if err != nil {
		t.Fatal(err)
	}
	c := s.Conn()
	if !c.Stat().Limited {
		t.Fatal("the connection did not go through the relay")
	}
	// The circuit is upgraded like any raw connection: a security
	// handshake between a and b over the relayed bytes, which is where
	// the remote key comes from (the circuit's ConnState does not name the
	// protocol).
	if rk := c.RemotePublicKey(); c.RemotePeer() != b.ID() || rk == nil || !rk.Equals(b.Peerstore().PubKey(b.ID())) {
		t.Fatal("the relayed connection does not prove b's key to a")
	}
	secret := []byte("only a and b read this")
	if _, err := s.Write(secret); err != nil {
		t.Fatal(err)
	}
	s.CloseWrite()
	select {
	case data := <-got:
		if string(data) != string(secret) {
			t.Fatalf("b got %q", data)
		}
	case <-ctx.Done():
		t.Fatal("nothing arrived through the relay")
	}
	s.Close()
}
