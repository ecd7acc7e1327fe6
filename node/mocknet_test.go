package node

import (
	"fmt"
	"os"
	"sync"
	"testing"

	"github.com/libp2p/go-libp2p"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
)

// testNets holds each test's mocknet, so that the nodes a test makes
// reach each other; the mocknet is closed after the test's nodes.
var testNets sync.Map // *testing.T -> mocknet.Mocknet

// addMocknetPeer adds a host with key to t's mocknet, linked to every other
// host on it, at an address of its own.
func addMocknetPeer(t *testing.T, key lcrypto.PrivKey) (host.Host, error) {
	v, loaded := testNets.LoadOrStore(t, mocknet.New())
	mn := v.(mocknet.Mocknet)
	if !loaded {
		t.Cleanup(func() {
			testNets.Delete(t)
			mn.Close()
		})
	}
	id, err := peer.IDFromPrivateKey(key)
	if err != nil {
		return nil, err
	}
	if mn.Host(id) != nil {
		return nil, fmt.Errorf("peer %s is on the mocknet already: a test that restarts a node calls useTCP", id)
	}
	h, err := mn.AddPeer(key, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", 1+len(mn.Hosts()))))
	if err != nil {
		return nil, err
	}
	return h, mn.LinkAll()
}

// newTestHost is a bare libp2p host for a test's hand-driven peers, on the
// same network as its nodes: the test's mocknet, or loopback behind g.
func newTestHost(t *testing.T, key lcrypto.PrivKey, g *LoopbackGater) (host.Host, error) {
	if onMocknet(t) {
		return addMocknetPeer(t, key)
	}
	return libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.ConnectionGater(g), libp2p.DisableRelay())
}

// tcpTests are the tests whose nodes and raw hosts use real loopback
// sockets (useTCP).
var tcpTests sync.Map // *testing.T -> struct{}

// useTCP puts every node and raw host of t on real loopback sockets: for
// tests whose peers live outside the process (child processes) or that
// restart a node under the same key, which the mocknet does not model.
func useTCP(t *testing.T) { tcpTests.Store(t, struct{}{}); t.Cleanup(func() { tcpTests.Delete(t) }) }

// onMocknet reports whether t's nodes run on its mocknet.
func onMocknet(t *testing.T) bool {
	_, tcp := tcpTests.Load(t)
	return !tcp && os.Getenv("NODE_TEST_NET") != "tcp"
}
