package node

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/storage"
)

func TestMain(m *testing.M) {
	if os.Getenv(envChild) != "" {
		os.Exit(runChild())
	}
	goleak.VerifyTestMain(m,
		// Process-wide goroutines that libp2p and its dependencies start once.
		goleak.IgnoreAnyFunction("github.com/ipfs/go-log/v2.(*ZapEventLogger).Warn"),
		goleak.IgnoreTopFunction("github.com/libp2p/go-libp2p/p2p/transport/quicreuse.(*reuse).gc"),
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).run"),
		goleak.IgnoreAnyFunction("github.com/dgraph-io/ristretto/v2/z.(*AllocatorPool).freeupAllocators"),
		// The mocknet's own pump of a stream whose far side went away with
		// a closed mock host: no code of ours runs on it, and our readers
		// and writers of that stream would still show here.
		goleak.IgnoreTopFunction("github.com/libp2p/go-libp2p/p2p/net/mock.(*stream).transport"),
	)
}

// testNode is a node of a test: on the test's go-libp2p mocknet unless the
// test asks for real sockets (useTCP) or NODE_TEST_NET=tcp is set, then on
// loopback behind a gater that refuses anything else. Cleanup closes it and
// checks the gater refused nothing.
type testNode struct {
	*Node
	t      *testing.T
	home   string
	events <-chan Event
	cancel func()
}

func newTestNode(t *testing.T, home string, mod ...func(*Config)) *testNode {
	t.Helper()
	if home == "" {
		home = t.TempDir()
	}
	cfg := Config{
		Home:        home,
		ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"},
		Gater:       &LoopbackGater{},
		RetryBase:   20 * time.Millisecond,
		RetryMax:    500 * time.Millisecond,
		// A stamp of the default 11 bits takes seconds under -race: tests
		// that are about stamps set StampDifficulty.
		NoStamp: true,
	}
	if onMocknet(t) {
		cfg.NewHost = func(key lcrypto.PrivKey) (host.Host, error) { return addMocknetPeer(t, key) }
	}
	if os.Getenv("NODE_TEST_LOG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	for _, f := range mod {
		f(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ev, unsub := n.Subscribe()
	tn := &testNode{Node: n, t: t, home: home, events: ev, cancel: unsub}
	t.Cleanup(tn.stop)
	return tn
}

func (tn *testNode) stop() {
	tn.cancel()
	if err := tn.Close(); err != nil {
		tn.t.Errorf("Close: %v", err)
	}
	if r := tn.cfg.Gater.Refused(); r != 0 {
		tn.t.Errorf("gater refused %d non-loopback dials or connections", r)
	}
}

func (tn *testNode) invite() string { return tn.Self().Invite }

// waitEvent waits for an event that matches, failing the test at the deadline.
func (tn *testNode) waitEvent(what string, match func(Event) bool) Event {
	tn.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case e, ok := <-tn.events:
			if !ok {
				tn.t.Fatalf("event stream closed while waiting for %s", what)
			}
			if match(e) {
				return e
			}
		case <-deadline:
			tn.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitState waits until our message id to p reaches state s. It checks the
// store whenever an event arrives, and at least every 50 ms in case the
// event was dropped (a subscriber that falls behind misses events).
func (tn *testNode) waitState(p peer.ID, id storage.MessageID, s storage.MessageState) {
	tn.t.Helper()
	tn.waitUntil("message "+id.String()+" "+s.String(), func() bool { return !tn.message(p, id).State.Before(s) })
}

// waitUntil waits for cond, re-checking on every event and every 50 ms.
func (tn *testNode) waitUntil(what string, cond func() bool) {
	tn.t.Helper()
	deadline := time.After(60 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tn.events:
		case <-tick.C:
		case <-deadline:
			tn.t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func (tn *testNode) message(p peer.ID, id storage.MessageID) storage.Message {
	tn.t.Helper()
	var m storage.Message
	err := tn.store.View(func(tx *storage.Txn) error {
		var err error
		m, err = tx.Message(p, id)
		return err
	})
	if err != nil {
		tn.t.Fatal(err)
	}
	return m
}

func (tn *testNode) send(to peer.ID, text string) storage.Message {
	tn.t.Helper()
	m, err := tn.Send(context.Background(), to, Outgoing{Body: text})
	if err != nil {
		tn.t.Fatalf("Send: %v", err)
	}
	return m
}

func threadPeers(cs []storage.Conversation) map[peer.ID]bool {
	out := map[peer.ID]bool{}
	for _, c := range cs {
		out[c.Peer] = true
	}
	return out
}

var zeroTime time.Time
