package rooms

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"
	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/internal/loopback"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Process-wide goroutines that libp2p and its dependencies start once.
		goleak.IgnoreAnyFunction("github.com/ipfs/go-log/v2.(*ZapEventLogger).Warn"),
		goleak.IgnoreTopFunction("github.com/libp2p/go-libp2p/p2p/transport/quicreuse.(*reuse).gc"),
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).run"),
		goleak.IgnoreAnyFunction("github.com/dgraph-io/ristretto/v2/z.(*AllocatorPool).freeupAllocators"),
		// A mocknet stream's delivery goroutine outlives a Reset for a moment
		// (it drains its write queue); mocknet, not ours.
		goleak.IgnoreTopFunction("github.com/libp2p/go-libp2p/p2p/net/mock.(*stream).transport"),
	)
}

// overTCP runs the package's tests over real loopback sockets instead of a
// go-libp2p mocknet (ROOMS_TEST_NET=tcp), to compare the two.
var overTCP = os.Getenv("ROOMS_TEST_NET") == "tcp"

// testNet is what a test's services share: a mocknet, or nothing (real
// loopback sockets, see overTCP).
type testNet struct {
	mn   mocknet.Mocknet
	port atomic.Int32
	// seenTTL, if set, shortens GossipSub's seen-message memory on the
	// services made after it is set.
	seenTTL time.Duration
}

func newTestNet(t *testing.T) *testNet {
	tn := &testNet{}
	if !overTCP {
		tn.mn = mocknet.New()
		t.Cleanup(func() { tn.mn.Close() })
	}
	return tn
}

// newHost adds a peer to the mocknet and links it to every other.
func (tn *testNet) newHost(key lcrypto.PrivKey) (host.Host, error) {
	addr, err := ma.NewMultiaddr(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", 10000+tn.port.Add(1)))
	if err != nil {
		return nil, err
	}
	h, err := tn.mn.AddPeer(key, addr)
	if err != nil {
		return nil, err
	}
	return h, tn.mn.LinkAll()
}

// testService is a rooms service on its own store, host, DHT and GossipSub,
// built the way the node builds it; cleanup stops it.
type testService struct {
	*Service
	t      *testing.T
	home   string
	store  *storage.Store
	net    *p2p.Network
	ps     *pubsub.PubSub
	life   *env.Lifetime
	events <-chan event.Event
	unsub  func()
	once   sync.Once
}

func newTestService(t *testing.T, tn *testNet, home string, mod ...func(*Config)) *testService {
	t.Helper()
	if home == "" {
		home = t.TempDir()
	}
	log := slog.New(slog.DiscardHandler)
	if os.Getenv("NODE_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	st, err := storage.Open(storage.Config{Dir: filepath.Join(home, "store"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	id, err := env.LoadOrCreateIdentity(st)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	cfg := p2p.Config{Key: id.Signing().Libp2p(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Gater: &loopback.Gater{}, Logger: log}
	if tn.mn != nil {
		cfg.NewHost = tn.newHost
	}
	net, err := p2p.New(cfg)
	if err != nil {
		st.Close()
		t.Fatal(err)
	}
	life := env.NewLifetime()
	ps, err := pubsub.New(life.Context(), pubsub.Config{Host: net.Host(), Logger: log, Heartbeat: 50 * time.Millisecond, SeenTTL: tn.seenTTL,
		MessageID: func(topic string, data []byte) string { return MessageID(data) }, Scoring: true})
	if err != nil {
		t.Fatal(err)
	}
	bus := event.NewBus()
	e := env.Env{Store: st, Identity: id, Net: net, Bus: bus, Log: log, Life: life, Clock: &env.SendClock{}}
	scfg := Config{Env: e, PubSub: ps, SyncInterval: 200 * time.Millisecond}
	for _, f := range mod {
		f(&scfg)
	}
	svc := New(scfg)
	ev, unsub := bus.Subscribe()
	ts := &testService{Service: svc, t: t, home: home, store: st, net: net, ps: ps, life: life, events: ev, unsub: unsub}
	t.Cleanup(ts.stop)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := svc.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if err := net.Start(ctx); err != nil {
		t.Fatal(err)
	}
	return ts
}

// stop closes the service and what it runs on, in the node's order.
func (ts *testService) stop() {
	ts.once.Do(func() {
		ts.unsub()
		ts.life.Cancel()
		err := ts.Close()
		err = errors.Join(err, ts.ps.Close())
		ts.life.ResetStreams()
		err = errors.Join(err, ts.net.Close())
		ts.life.Wait()
		err = errors.Join(err, ts.store.Close())
		if err != nil {
			ts.t.Errorf("stop: %v", err)
		}
	})
}

// connect connects ts to other.
func (ts *testService) connect(other *testService) {
	ts.t.Helper()
	h := other.net.Host()
	if err := ts.net.Host().Connect(ts.t.Context(), peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}); err != nil {
		ts.t.Fatal(err)
	}
}

// waitUntil waits for cond, re-checking on every event and every 50 ms.
func (ts *testService) waitUntil(what string, cond func() bool) {
	ts.t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-ts.events:
		case <-tick.C:
		case <-deadline:
			ts.t.Fatalf("timed out waiting for %s", what)
		}
	}
}
