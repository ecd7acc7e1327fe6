package pubsub

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
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

const (
	testHeartbeat = 50 * time.Millisecond
	deadline      = 20 * time.Second // generous: the race detector and a shared machine are slow
)

// testHost is a libp2p host on 127.0.0.1 behind a loopback gater; cleanup
// closes it and checks the gater refused nothing.
func testHost(tb testing.TB) host.Host {
	tb.Helper()
	g := &loopback.Gater{}
	h, err := libp2p.New(
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ConnectionGater(g),
		libp2p.DisableRelay(),
	)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := h.Close(); err != nil {
			tb.Errorf("close host: %v", err)
		}
		if n := g.Refused(); n != 0 {
			tb.Errorf("gater refused %d dials or connections", n)
		}
	})
	return h
}

// testPubSub starts a PubSub with a short heartbeat on a new host; cleanup
// closes it before the host.
func testPubSub(tb testing.TB, mod ...func(*Config)) *PubSub {
	tb.Helper()
	cfg := Config{Host: testHost(tb), Heartbeat: testHeartbeat}
	for _, f := range mod {
		f(&cfg)
	}
	p, err := New(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		if err := p.Close(); err != nil {
			tb.Errorf("close pubsub: %v", err)
		}
	})
	return p
}

func connect(tb testing.TB, a, b *PubSub) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := a.host.Connect(ctx, peer.AddrInfo{ID: b.host.ID(), Addrs: b.host.Addrs()}); err != nil {
		tb.Fatal(err)
	}
}

func join(tb testing.TB, p *PubSub, name string, v Validator) *Topic {
	tb.Helper()
	t, err := p.Join(name, v)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func acceptAll(context.Context, peer.ID, []byte) Result { return Accept }

func publish(tb testing.TB, t *Topic, data string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	if err := t.Publish(ctx, []byte(data)); err != nil {
		tb.Fatal(err)
	}
}

// next returns the topic's next message from another peer, failing the
// test at the deadline.
func next(tb testing.TB, t *Topic) Message {
	tb.Helper()
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for {
		select {
		case m, ok := <-t.Messages():
			if !ok {
				tb.Fatalf("topic %q closed while waiting", t.Name())
			}
			if m.Local {
				continue
			}
			return m
		case <-timer.C:
			tb.Fatalf("no message on %q within %v", t.Name(), deadline)
		}
	}
}

// recorder is a validator that records what it saw and rejects payloads
// for which reject returns true.
type recorder struct {
	reject   func(data string) bool
	mu       sync.Mutex
	seen     []string
	rejected chan string
}

func newRecorder(reject func(string) bool) *recorder {
	return &recorder{reject: reject, rejected: make(chan string, 1024)}
}

func (r *recorder) validate(_ context.Context, _ peer.ID, data []byte) Result {
	r.mu.Lock()
	r.seen = append(r.seen, string(data))
	r.mu.Unlock()
	if r.reject != nil && r.reject(string(data)) {
		r.rejected <- string(data)
		return Reject
	}
	return Accept
}

func (r *recorder) saw() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.seen...)
}

// has reports whether every one of peers is in topic's mesh.
func (m *meshTracker) has(topic string, peers []peer.ID) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, p := range peers {
		if !m.mesh[topic][p] {
			return false
		}
	}
	return true
}

// meshPubSub is testPubSub and the tracker of its meshes.
func meshPubSub(tb testing.TB, mod ...func(*Config)) (*PubSub, *meshTracker) {
	p := testPubSub(tb, mod...)
	return p, p.mesh
}

// waitMesh waits until every one of peers is in w's mesh for topic.
func waitMesh(tb testing.TB, w *meshTracker, topic string, peers ...*PubSub) {
	tb.Helper()
	ids := make([]peer.ID, len(peers))
	for i, p := range peers {
		ids[i] = p.host.ID()
	}
	timer := time.NewTimer(deadline)
	defer timer.Stop()
	for !w.has(topic, ids) {
		select {
		case <-w.changed:
		case <-timer.C:
			tb.Fatalf("mesh for %q did not form within %v", topic, deadline)
		}
	}
}
