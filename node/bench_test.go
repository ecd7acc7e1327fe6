package node

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

// The benchmarks compare Backchannel's 1:1 path with raw go-libp2p streams
// between the same two hosts in the same run.

const echoProtocol = "/backchannel-bench/echo/1.0.0"

// benchPair starts two nodes that are each other's contacts, with an echo
// protocol on b for the raw baseline.
func benchPair(b *testing.B) (a, c *Node, evs <-chan Event) {
	b.Helper()
	mk := func() *Node {
		n, err := New(Config{Home: b.TempDir(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Gater: &LoopbackGater{}, NoStamp: true, NoSync: os.Getenv("BENCH_NOSYNC") != ""})
		if err != nil {
			b.Fatal(err)
		}
		if err := n.Start(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { n.Close() })
		return n
	}
	a, c = mk(), mk()
	if _, err := a.AddContact(context.Background(), c.Self().Invite, "c"); err != nil {
		b.Fatal(err)
	}
	if _, err := c.AddContact(context.Background(), a.Self().Invite, "a"); err != nil {
		b.Fatal(err)
	}
	c.net.Host().SetStreamHandler(echoProtocol, func(s network.Stream) {
		defer s.Close()
		io.Copy(s, s)
	})
	evs, cancel := c.Subscribe()
	b.Cleanup(cancel)
	// Warm up: session (both ways, as in a conversation) and connection.
	aEvs, cancelA := a.Subscribe()
	defer cancelA()
	m, err := a.Send(context.Background(), c.ID(), Outgoing{Body: "warm up"})
	if err != nil {
		b.Fatal(err)
	}
	waitStored(b, evs, m.ID)
	if m, err = c.Send(context.Background(), a.ID(), Outgoing{Body: "reply"}); err != nil {
		b.Fatal(err)
	}
	waitStored(b, aEvs, m.ID)
	return a, c, evs
}

func waitStored(b *testing.B, evs <-chan Event, id storage.MessageID) {
	timeout := time.After(30 * time.Second)
	for {
		select {
		case e := <-evs:
			if e.Type == EventMessage && e.Message.ID == id {
				return
			}
		case <-timeout:
			b.Fatalf("message %s not stored in time", id)
		}
	}
}

// rawRoundTrips measures n new-stream round trips of a 256-byte message.
func rawRoundTrips(b *testing.B, from *Node, to peer.ID, n int) []time.Duration {
	msg := make([]byte, 256)
	var out []time.Duration
	for range n {
		start := time.Now()
		s, err := from.net.Host().NewStream(context.Background(), to, echoProtocol)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(s, msg); err != nil {
			b.Fatal(err)
		}
		out = append(out, time.Since(start))
		s.Close()
	}
	return out
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// BenchmarkLatency: one message at a time, from Send (stored, fsynced) to
// the recipient's commit, beside the raw new-stream round trip.
// Target: p50 within 10x the raw round trip.
func BenchmarkLatency(b *testing.B) {
	a, c, evs := benchPair(b)
	raw := rawRoundTrips(b, a, c.ID(), 200)
	var lat []time.Duration
	for i := 0; b.Loop(); i++ {
		start := time.Now()
		m, err := a.Send(context.Background(), c.ID(), Outgoing{Body: fmt.Sprint("ping ", i)})
		if err != nil {
			b.Fatal(err)
		}
		waitStored(b, evs, m.ID)
		lat = append(lat, time.Since(start))
	}
	p50, rawP50 := percentile(lat, .5), percentile(raw, .5)
	b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(percentile(lat, .99).Microseconds()), "p99-µs")
	b.ReportMetric(float64(rawP50.Microseconds()), "raw-p50-µs")
	b.ReportMetric(float64(percentile(raw, .99).Microseconds()), "raw-p99-µs")
	b.ReportMetric(float64(p50)/float64(rawP50), "p50/raw")
}

// BenchmarkThroughput: b.N messages sent by 32 concurrent callers, until the
// sender has every ack (encryption, persistence on both sides and acks
// included), beside raw pipelined 256-byte echoes on one stream.
// Target: at least 5,000 messages/s.
func BenchmarkThroughput(b *testing.B) {
	a, c, _ := benchPair(b)
	n := b.N
	const senders = 32
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += senders {
				if _, err := a.Send(context.Background(), c.ID(), Outgoing{Body: fmt.Sprint("burst ", i)}); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// Done when the outbox is empty: every message acked. (Counting events
	// would not do: a subscriber that falls behind misses some.)
	deadline := time.Now().Add(5 * time.Minute)
	for !outboxEmpty(b, a) {
		if time.Now().After(deadline) {
			b.Fatal("not all delivered")
		}
		time.Sleep(time.Millisecond)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(n)/elapsed.Seconds(), "msgs/s")
	b.ReportMetric(rawThroughput(b, a, c.ID(), max(n, 1000)), "raw-msgs/s")
}

// rawThroughput pipelines n 256-byte messages over one stream and reads the
// echoes.
func rawThroughput(b *testing.B, from *Node, to peer.ID, n int) float64 {
	s, err := from.net.Host().NewStream(context.Background(), to, echoProtocol)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, bufio.NewReader(s), int64(n*256))
		done <- err
	}()
	w := bufio.NewWriter(s)
	msg := make([]byte, 256)
	for range n {
		w.Write(msg)
	}
	w.Flush()
	if err := <-done; err != nil {
		b.Fatal(err)
	}
	return float64(n) / time.Since(start).Seconds()
}

func outboxEmpty(b *testing.B, n *Node) bool {
	var peers []peer.ID
	err := n.store.View(func(tx *storage.Txn) error {
		var err error
		peers, err = tx.OutboxPeers()
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return len(peers) == 0
}

// newBenchNode starts a node for the node benchmarks: on loopback (the
// benchmarks time real sockets), without fsync, with a short GossipSub
// heartbeat, bootstrapped from boot if given. The caller closes it.
func newBenchNode(b *testing.B, boot string, mod ...func(*Config)) *Node {
	b.Helper()
	cfg := Config{Home: b.TempDir(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Gater: &LoopbackGater{}, NoStamp: true, NoSync: true,
		PubSubHeartbeat: 100 * time.Millisecond}
	if boot != "" {
		cfg.Bootstrap = []string{boot}
	}
	for _, f := range mod {
		f(&cfg)
	}
	nd, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	if err := nd.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	return nd
}
