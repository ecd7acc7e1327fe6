package node

import (
	"testing"
	"time"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/storage"
)

func onMocknet(mn mocknet.Mocknet, addr string) func(*Config) {
	return func(c *Config) {
		c.NewHost = func(key lcrypto.PrivKey) (host.Host, error) {
			return mn.AddPeer(key, ma.StringCast(addr))
		}
	}
}

func TestMocknetSmoke(t *testing.T) {
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	a := newTestNode(t, "", onMocknet(mn, "/ip4/127.0.0.1/tcp/1"))
	b := newTestNode(t, "", onMocknet(mn, "/ip4/127.0.0.1/tcp/2"))
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddContact(t.Context(), a.invite(), "a"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	m := b.send(a.ID(), "hello")
	b.waitState(a.ID(), m.ID, storage.StateDelivered)
	t.Logf("delivered in %v", time.Since(start))
}
