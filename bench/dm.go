package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// echoProtocol is the raw baseline's protocol: the responder echoes bytes.
const echoProtocol = "/backchannel-bench/echo/1.0.0"

// rawMessageSize is the size of a raw baseline message: about what a short
// text costs on the wire once encrypted and framed.
const rawMessageSize = 256

// runDM measures 1:1 messaging between two nodes that are each other's
// contacts, with fsync on both sides: the latency from Send (stored) to the
// recipient's commit, and the throughput of a burst from 32 callers until
// every message is acked. Beside them, two raw go-libp2p hosts: a new
// stream's round trip of 256 bytes, and pipelined 256-byte echoes.
func runDM(ctx context.Context, e *env) (res ScenarioResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()

	e.step("starting two nodes (fsync on) and two raw libp2p hosts")
	a, b, err := contactPair(ctx, c)
	if err != nil {
		return res, err
	}
	evs, cancel := b.Subscribe()
	defer cancel()
	if err := warmUp(ctx, a, b, evs); err != nil {
		return res, err
	}
	h1, h2, err := echoPair(ctx, c)
	if err != nil {
		return res, err
	}

	e.step("latency: %d messages one at a time, and %d raw round trips", e.dmLatency, e.dmRaw)
	raw, err := rawRoundTrips(ctx, h1, h2.ID(), e.dmRaw)
	if err != nil {
		return res, fmt.Errorf("raw round trips: %w", err)
	}
	var lat []time.Duration
	for i := range e.dmLatency {
		start := time.Now()
		m, err := a.Send(ctx, b.ID(), node.Outgoing{Body: fmt.Sprint("ping ", i)})
		if err != nil {
			return res, err
		}
		if err := waitStored(ctx, evs, m.ID, 30*time.Second); err != nil {
			return res, err
		}
		lat = append(lat, time.Since(start))
	}
	cancel()

	e.step("throughput: %d messages from 32 callers until all are acked", e.dmThroughput)
	rate, err := throughput(ctx, e, a, b, e.dmThroughput)
	if err != nil {
		return res, err
	}
	e.step("raw throughput: pipelined %d-byte echoes", rawMessageSize)
	rawRate, err := rawThroughput(ctx, h1, h2.ID(), max(e.dmThroughput, 10_000))
	if err != nil {
		return res, fmt.Errorf("raw throughput: %w", err)
	}

	const rt = "raw new-stream round trip"
	res.Figures = []Figure{
		figVs("latency p50", "ms", ms(percentile(lat, .5)), ms(percentile(raw, .5)), rt, ratioAtMost(10)),
		figVs("latency p99", "ms", ms(percentile(lat, .99)), ms(percentile(raw, .99)), rt, nil),
		figVs("throughput", "msg/s", rate, rawRate, "raw pipelined echoes on one stream", atLeast(5000)),
	}
	res.Note = "latency is Send (stored, fsynced) to the recipient's commit (fsynced) over a new stream; " +
		"throughput counts until the sender holds every ack. Raw hosts are separate go-libp2p hosts with the same transport (TCP), security and muxer."
	return res, nil
}

// contactPair starts two nodes with fsync on and makes them each other's
// contacts.
func contactPair(ctx context.Context, c *cluster) (a, b *node.Node, err error) {
	if a, err = c.node(ctx); err != nil {
		return nil, nil, err
	}
	if b, err = c.node(ctx); err != nil {
		return nil, nil, err
	}
	if _, err := a.AddContact(ctx, b.Self().Invite, "b"); err != nil {
		return nil, nil, err
	}
	if _, err := b.AddContact(ctx, a.Self().Invite, "a"); err != nil {
		return nil, nil, err
	}
	return a, b, nil
}

// warmUp starts the sessions both ways, as in a conversation, and opens the
// connection.
func warmUp(ctx context.Context, a, b *node.Node, bEvents <-chan node.Event) error {
	aEvents, cancel := a.Subscribe()
	defer cancel()
	m, err := a.Send(ctx, b.ID(), node.Outgoing{Body: "warm up"})
	if err != nil {
		return err
	}
	if err := waitStored(ctx, bEvents, m.ID, time.Minute); err != nil {
		return err
	}
	if m, err = b.Send(ctx, a.ID(), node.Outgoing{Body: "reply"}); err != nil {
		return err
	}
	return waitStored(ctx, aEvents, m.ID, time.Minute)
}

// waitStored waits for the event that message id was stored.
func waitStored(ctx context.Context, evs <-chan node.Event, id storage.MessageID, limit time.Duration) error {
	timeout := time.NewTimer(limit)
	defer timeout.Stop()
	for {
		select {
		case ev, ok := <-evs:
			if !ok {
				return fmt.Errorf("event stream closed waiting for message %s", id)
			}
			if ev.Type == node.EventMessage && ev.Message != nil && ev.Message.ID == id {
				return nil
			}
		case <-timeout.C:
			return fmt.Errorf("%w: message %s not stored after %v", ErrTimeout, id, limit)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// throughput sends n messages from 32 concurrent callers and returns the
// rate at which they were acked. It checks the recipient stored each once.
func throughput(ctx context.Context, e *env, a, b *node.Node, n int) (float64, error) {
	const senders = 32
	// Start from an empty outbox, so that the acks counted are the burst's.
	if err := waitFor(ctx, "the outbox empty before the burst", e.deliveryTimeout, 5*time.Millisecond, func() (bool, error) {
		return a.Status().OutboxPending == 0, nil
	}); err != nil {
		return 0, err
	}
	aEvents, cancel := a.Subscribe()
	defer cancel()
	acked := newAckTracker(aEvents)
	start := time.Now()
	ids := make([]storage.MessageID, n)
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := w; i < n; i += senders {
				m, err := a.Send(ctx, b.ID(), node.Outgoing{Body: fmt.Sprint("burst ", i)})
				if err != nil {
					errs[w] = err
					return
				}
				ids[i] = m.ID
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	// Done when every message is acked: the events say so as they come (a
	// subscriber that falls behind misses some, so the outbox is the
	// fallback).
	err := waitFor(ctx, "every message acked", e.deliveryTimeout, 2*time.Millisecond, func() (bool, error) {
		if acked.count() >= n {
			return true, nil
		}
		if acked.polls()%100 == 99 {
			return a.Status().OutboxPending == 0, nil
		}
		return false, nil
	})
	elapsed := time.Since(start)
	cancel()
	acked.wait()
	if err != nil {
		return 0, err
	}
	f, err := storedOnce(b, a.ID(), ids)
	if err != nil {
		return 0, err
	}
	if !f.Clean() {
		return 0, fmt.Errorf("throughput burst: %d of %d lost, %d duplicated", f.Lost, f.Sent, f.Duplicated)
	}
	return float64(n) / elapsed.Seconds(), nil
}

// ackTracker counts our messages that reached Delivered, from events.
type ackTracker struct {
	mu    sync.Mutex
	acked map[storage.MessageID]bool
	n     int
	done  chan struct{}
}

func newAckTracker(evs <-chan node.Event) *ackTracker {
	t := &ackTracker{acked: map[storage.MessageID]bool{}, done: make(chan struct{})}
	go func() { // ends when the subscription is cancelled
		defer close(t.done)
		for ev := range evs {
			if ev.Type == node.EventMessageState && ev.Message != nil && ev.Message.State.Rank() >= storage.StateDelivered.Rank() {
				t.mu.Lock()
				t.acked[ev.Message.ID] = true
				t.mu.Unlock()
			}
		}
	}()
	return t
}

func (t *ackTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.acked)
}

// polls counts the calls, so that the caller can do something every so often.
func (t *ackTracker) polls() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.n++
	return t.n
}

func (t *ackTracker) wait() { <-t.done }

// storedOnce counts how many of ids the node holds in its conversation with
// p, and how many it holds more than once.
func storedOnce(n *node.Node, p peer.ID, ids []storage.MessageID) (Faults, error) {
	ms, err := n.Messages(p, 1<<30, time.Time{})
	if err != nil {
		return Faults{}, err
	}
	return countFaults(ids, func(yield func(storage.MessageID)) {
		for _, m := range ms {
			yield(m.ID)
		}
	}), nil
}

// countFaults compares the IDs sent with the IDs found (with repeats).
func countFaults[ID comparable](sent []ID, found func(yield func(ID))) Faults {
	want := make(map[ID]int, len(sent))
	for _, id := range sent {
		want[id] = 0
	}
	f := Faults{Sent: len(sent)}
	found(func(id ID) {
		if c, ok := want[id]; ok {
			want[id] = c + 1
		}
	})
	for _, c := range want {
		switch {
		case c == 0:
			f.Lost++
		default:
			f.Delivered++
			f.Duplicated += c - 1
		}
	}
	return f
}

// echoPair starts two raw hosts, the second echoing, and connects them.
func echoPair(ctx context.Context, c *cluster) (h1, h2 host.Host, err error) {
	if h1, err = c.rawHost(); err != nil {
		return nil, nil, err
	}
	if h2, err = c.rawHost(); err != nil {
		return nil, nil, err
	}
	h2.SetStreamHandler(echoProtocol, func(s network.Stream) {
		defer s.Close()
		_, _ = io.Copy(s, s)
	})
	if err := h1.Connect(ctx, peer.AddrInfo{ID: h2.ID(), Addrs: h2.Addrs()}); err != nil {
		return nil, nil, err
	}
	_, err = rawRoundTrips(ctx, h1, h2.ID(), 10) // warm up
	return h1, h2, err
}

// rawRoundTrips times n new-stream round trips of a 256-byte message.
func rawRoundTrips(ctx context.Context, from host.Host, to peer.ID, n int) ([]time.Duration, error) {
	msg := make([]byte, rawMessageSize)
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		s, err := from.NewStream(ctx, to, echoProtocol)
		if err != nil {
			return nil, err
		}
		if _, err := s.Write(msg); err != nil {
			s.Reset()
			return nil, err
		}
		if _, err := io.ReadFull(s, msg); err != nil {
			s.Reset()
			return nil, err
		}
		out = append(out, time.Since(start))
		s.Close()
	}
	return out, nil
}

// rawThroughput pipelines n 256-byte messages over one stream and reads the
// echoes; it returns messages a second.
func rawThroughput(ctx context.Context, from host.Host, to peer.ID, n int) (float64, error) {
	s, err := from.NewStream(ctx, to, echoProtocol)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		_, err := io.CopyN(io.Discard, bufio.NewReader(s), int64(n*rawMessageSize))
		done <- err
	}()
	w := bufio.NewWriter(s)
	msg := make([]byte, rawMessageSize)
	for range n {
		if _, err := w.Write(msg); err != nil {
			s.Reset()
			<-done
			return 0, err
		}
	}
	if err := w.Flush(); err != nil {
		s.Reset()
		<-done
		return 0, err
	}
	if err := <-done; err != nil {
		return 0, err
	}
	return float64(n) / time.Since(start).Seconds(), nil
}
