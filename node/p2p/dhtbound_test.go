package p2p

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	dsq "github.com/ipfs/go-datastore/query"
	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/records"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/host/peerstore/pstoremem"
	"github.com/multiformats/go-multihash"

	"github.com/backchannel/backchannel/internal/loopback"
)

// testCID is a CID of s, as a room's ID or name is announced.
func testCID(t *testing.T, s string) cid.Cid {
	t.Helper()
	h, err := multihash.Sum([]byte(s), multihash.SHA2_256, -1)
	if err != nil {
		t.Fatal(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// waitFor polls cond until it holds, failing the test after d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		<-tick.C
	}
}

// newFloodDHT is a peer of our DHT that is not a Backchannel node: a plain
// kad-dht under our protocol prefix, with value records on, so it can send
// PUT_VALUE as well as ADD_PROVIDER; on loopback behind the gater.
func newFloodDHT(t *testing.T) (host.Host, *dht.IpfsDHT, lcrypto.PubKey) {
	t.Helper()
	key, pub, err := lcrypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	g := &loopback.Gater{}
	h, err := libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.ConnectionGater(g))
	if err != nil {
		t.Fatal(err)
	}
	d, err := dht.New(h, dht.ProtocolPrefix(DHTProtocolPrefix), dht.Mode(dht.ModeServer))
	if err != nil {
		h.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("flooder DHT Close: %v", err)
		}
		if err := h.Close(); err != nil {
			t.Errorf("flooder host Close: %v", err)
		}
		if r := g.Refused(); r != 0 {
			t.Errorf("gater refused %d non-loopback dials or connections", r)
		}
	})
	return h, d, pub
}

// TestDHTStoreBoundedAgainstFlood: a peer that announces itself as provider
// of many more keys than a DHT server keeps per peer, and sends PUT_VALUE,
// leaves the server holding its cap of provider records and no value
// record, while an honest peer's provider record, put before the flood, is
// still stored and served.
func TestDHTStoreBoundedAgainstFlood(t *testing.T) {
	const perPeer, floods = 40, 300 // over 256: the provider manager flushes its buffer to the store at 256
	caps := dhtStoreCaps{Records: 1000, Bytes: 1 << 20, PerPeer: perPeer}
	server := newTestNetworkConfig(t, Config{dhtCaps: caps})
	honest := newTestNetwork(t)
	fh, fd, fpub := newFloodDHT(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()

	serverInfo := peer.AddrInfo{ID: server.host.ID(), Addrs: server.host.Addrs()}
	if err := honest.host.Connect(ctx, serverInfo); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the server never entered the honest peer's routing table", honest.hasDHTPeer)
	room := testCID(t, "an honest room")
	if err := honest.dht.Provide(ctx, room, true); err != nil {
		t.Fatalf("honest Provide: %v", err)
	}

	if err := fh.Connect(ctx, serverInfo); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 20*time.Second, "the server never entered the flooder's routing table", func() bool {
		return fd.RoutingTable().Find(server.host.ID()) != ""
	})
	for i := range floods {
		if err := fd.Provide(ctx, testCID(t, fmt.Sprint("flood ", i)), true); err != nil {
			t.Fatalf("flood Provide %d: %v", i, err)
		}
	}
	// A /pk record is valid for any key pair: anyone can make any number.
	pkBytes, err := lcrypto.MarshalPublicKey(fpub)
	if err != nil {
		t.Fatal(err)
	}
	_ = fd.PutValue(ctx, "/pk/"+string(fh.ID()), pkBytes) // the server resets the stream

	// Provide returns once ADD_PROVIDER is sent; the server stores it when
	// its handler runs, and its provider manager writes to the store once
	// 256 records are buffered.
	store := server.dhtStore
	fID := b32(string(fh.ID()))
	waitFor(t, 30*time.Second, "the flooder's records never reached the server's store", func() bool {
		_, _, n := store.Usage(fID)
		return n > 0 // a batch is written whole, under the store's lock
	})
	records, bytes, ofFlooder := store.Usage(fID)
	if ofFlooder != perPeer {
		t.Errorf("the server holds %d provider records of the flooder, want its cap %d", ofFlooder, perPeer)
	}
	if records > caps.Records || bytes > caps.Bytes || records > perPeer+1 {
		t.Errorf("the server holds %d records, %d bytes (caps %d records, %d bytes; %d from the flooder, 1 honest)",
			records, bytes, caps.Records, caps.Bytes, perPeer)
	}
	res, err := store.Query(ctx, dsq.Query{Prefix: "/pk", KeysOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if pk, err := res.Rest(); err != nil || len(pk) != 0 {
		t.Errorf("the server stored value records %v (%v)", pk, err)
	}

	provs, err := server.dht.ProviderStore().GetProviders(ctx, room.Hash())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(provs, func(ai peer.AddrInfo) bool { return ai.ID == honest.host.ID() }) {
		t.Errorf("the server does not serve the honest provider after the flood: %v", provs)
	}
	// And over the network: the flooder asks for the honest room.
	found := false
	for ai := range fd.FindProvidersAsync(ctx, room, 1) {
		found = found || ai.ID == honest.host.ID()
	}
	if !found {
		t.Error("the honest provider is not found through the DHT after the flood")
	}
}

func randomID(t *testing.T) peer.ID {
	t.Helper()
	_, pub, err := lcrypto.GenerateEd25519Key(nil)
	if err != nil {
		t.Fatal(err)
	}
	id, err := peer.IDFromPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestProviderCacheForgetsRefused: a provider added to a key whose provider
// set is cached, and then refused by the store, is not served from the
// cache (kad-dht adds it to the cached set before the store sees it).
func TestProviderCacheForgetsRefused(t *testing.T) {
	ctx := t.Context()
	cache, err := newProviderCache(dhtCacheSize)
	if err != nil {
		t.Fatal(err)
	}
	store := newBoundedStore(dhtStoreCaps{Records: 10_000, Bytes: 1 << 20, PerPeer: 2}, cache.forget)
	ps, err := pstoremem.NewPeerstore()
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close()
	self, honest, flood := randomID(t), randomID(t), randomID(t)
	pm, err := records.NewProviderManager(self, ps, store, records.Cache(cache))
	if err != nil {
		t.Fatal(err)
	}
	defer pm.Close()

	room := []byte("room")
	if err := pm.AddProvider(ctx, room, peer.AddrInfo{ID: honest}); err != nil {
		t.Fatal(err)
	}
	if provs, err := pm.GetProviders(ctx, room); err != nil || len(provs) != 1 {
		t.Fatalf("GetProviders: %v, %v", provs, err) // now cached
	}
	// The flooder fills its cap, then announces the cached key, then
	// enough more keys that the buffer is written to the store.
	for i := range 2 {
		if err := pm.AddProvider(ctx, fmt.Appendf(nil, "flood %d", i), peer.AddrInfo{ID: flood}); err != nil {
			t.Fatal(err)
		}
	}
	if err := pm.AddProvider(ctx, room, peer.AddrInfo{ID: flood}); err != nil {
		t.Fatal(err)
	}
	for i := 2; store.Refused() == 0 && i < 10_000; i++ {
		if err := pm.AddProvider(ctx, fmt.Appendf(nil, "flood %d", i), peer.AddrInfo{ID: flood}); err != nil {
			t.Fatal(err)
		}
	}
	if store.Refused() == 0 {
		t.Fatal("the provider manager never wrote to the store")
	}
	_, _, n := store.Usage(b32(string(flood)))
	if n != 2 {
		t.Fatalf("the store holds %d records of the flooder, want 2", n)
	}
	provs, err := pm.GetProviders(ctx, room)
	if err != nil {
		t.Fatal(err)
	}
	if slices.ContainsFunc(provs, func(ai peer.AddrInfo) bool { return ai.ID == flood }) {
		t.Errorf("a refused provider is served: %v", provs)
	}
	if !slices.ContainsFunc(provs, func(ai peer.AddrInfo) bool { return ai.ID == honest }) {
		t.Errorf("the honest provider is not served: %v", provs)
	}
}
