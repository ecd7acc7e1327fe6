package peerbook

import (
	"crypto/rand"
	"strings"
	"testing"
	"time"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/internal/loopback"
	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/storage"
)

func newPeerID(t *testing.T) peer.ID {
	t.Helper()
	_, pub, err := lcrypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestBookBounded: a flood of peers met leaves at most MaxPeers in the
// book, never forgetting bootstrap or wanted peers, and each entry is
// bounded in addresses and bytes.
func TestBookBounded(t *testing.T) {
	st, err := storage.Open(storage.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	key, _, err := lcrypto.GenerateEd25519Key(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	net, err := p2p.New(p2p.Config{Key: key, ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Gater: &loopback.Gater{}})
	if err != nil {
		t.Fatal(err)
	}
	defer net.Close()

	boot, wanted := newPeerID(t), newPeerID(t)
	bootAddr := ma.StringCast("/ip4/127.0.0.1/tcp/4001")
	b := New(Config{Store: st, MaxPeers: 10, Bootstrap: []peer.AddrInfo{{ID: boot, Addrs: []ma.Multiaddr{bootAddr}}}})
	if err := b.Load(net); err != nil {
		t.Fatal(err)
	}
	b.wanted = func() ([]peer.ID, error) { return []peer.ID{wanted}, nil }

	many := make([]ma.Multiaddr, 40)
	for i := range many {
		many[i] = ma.StringCast("/ip4/127.0.0.1/tcp/" + string(rune('1'+i%9)) + "000")
	}
	long := ma.StringCast("/dns4/" + strings.Repeat("a", 250) + ".example/tcp/1")
	b.learn(event.EvtPeerIdentificationCompleted{Peer: wanted, ListenAddrs: append([]ma.Multiaddr{long}, many...)})
	b.peers[wanted].LastSeen = time.Now().Add(-time.Hour) // the oldest: first to go, were it not wanted
	for range 50 {
		b.learn(event.EvtPeerIdentificationCompleted{Peer: newPeerID(t), ListenAddrs: many[:1]})
	}
	b.flush()

	var known []storage.KnownPeer
	if err := st.View(func(tx *storage.Txn) error {
		var err error
		known, err = tx.KnownPeers()
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if len(known) != 10 {
		t.Fatalf("book holds %d peers, want MaxPeers = 10", len(known))
	}
	found := map[peer.ID]storage.KnownPeer{}
	for _, kp := range known {
		found[kp.Peer] = kp
	}
	if kp, ok := found[boot]; !ok || !kp.Bootstrap {
		t.Errorf("bootstrap peer forgotten or unflagged: %+v", kp)
	}
	kp, ok := found[wanted]
	if !ok {
		t.Fatal("wanted peer forgotten")
	}
	if len(kp.Addrs) > maxAddrs {
		t.Errorf("wanted peer holds %d addresses, want at most %d", len(kp.Addrs), maxAddrs)
	}
	for _, a := range kp.Addrs {
		if len(a) > maxAddrBytes {
			t.Errorf("address of %d bytes kept", len(a))
		}
	}
	if got := b.Remembered(); len(got) != 1 || got[0].ID != boot {
		t.Errorf("Remembered = %v, want the bootstrap peer", got)
	}
}
