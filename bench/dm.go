package bench

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
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

// dmLatencyTarget and dmThroughputTarget: 1:1 p50 at most twice its
// durable floor; at least 10,000 messages a second sustained, encrypted,
// fsynced and acked.
const (
	dmLatencyTarget    = 2
	dmThroughputTarget = 10_000
	// dmBlocks: the latency loops take turns in this many blocks, so that
	// drift on the machine hits ours and its floors alike.
	dmBlocks = 10
	// ratchetMessages is how many messages (at most, and no more than the
	// burst) the ratchet's cost is timed over.
	ratchetMessages = 5000
)

// runDM measures 1:1 messaging between two nodes that are each other's
// contacts, with fsync on both sides: the latency from Send (stored) to the
// recipient's commit, and the throughput of a burst from 32 callers until
// every message is acked. Beside the latency, its durable floor (see
// durableFloor: two fsynced raw Badger commits and a raw new-stream round
// trip) and the raw round trip alone, the three taking turns in blocks.
// Beside the throughput, raw pipelined echoes on one stream, and the
// stages it is made of, each measured: the same burst between two nodes
// with fsync off (what fsync costs), the process's CPU per message (the
// ceiling the cores set), the ratchet's encryption and decryption alone, and
// the raw stream's cost per message.
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
	floor, err := newDurableFloor(e.dir, h1, h2)
	if err != nil {
		return res, fmt.Errorf("durable floor: %w", err)
	}
	defer func() { err = errors.Join(err, floor.close()) }()
	for range 10 { // warm up: the stores' first commits, the protocol
		if _, _, err := floor.once(ctx); err != nil {
			return res, fmt.Errorf("durable floor: %w", err)
		}
	}
	floor.recvCs = nil

	e.step("latency: %d messages one at a time, %d durable floors and %d raw round trips, in %d turns", e.dmLatency, e.dmRaw, e.dmRaw, dmBlocks)
	var lat, floors, commits, raw []time.Duration
	for blk := range dmBlocks {
		for i := range e.dmLatency / dmBlocks {
			start := time.Now()
			m, err := a.Send(ctx, b.ID(), node.Outgoing{Body: fmt.Sprint("ping ", blk, " ", i)})
			if err != nil {
				return res, err
			}
			if err := waitStored(ctx, evs, m.ID, 30*time.Second); err != nil {
				return res, err
			}
			lat = append(lat, time.Since(start))
		}
		for range e.dmRaw / dmBlocks {
			total, commit, err := floor.once(ctx)
			if err != nil {
				return res, fmt.Errorf("durable floor: %w", err)
			}
			floors, commits = append(floors, total), append(commits, commit)
		}
		rt, err := rawRoundTrips(ctx, h1, h2.ID(), e.dmRaw/dmBlocks)
		if err != nil {
			return res, fmt.Errorf("raw round trips: %w", err)
		}
		raw = append(raw, rt...)
	}
	cancel()

	e.step("throughput: %d messages from 32 callers until all are acked", e.dmThroughput)
	rate, use, err := throughput(ctx, e, a, b, e.dmThroughput)
	if err != nil {
		return res, err
	}
	e.step("throughput stages: the same burst between two nodes with fsync off")
	na, nb, err := contactPair(ctx, c, func(cfg *node.Config) { cfg.NoSync = true })
	if err != nil {
		return res, err
	}
	nevs, ncancel := nb.Subscribe()
	err = warmUp(ctx, na, nb, nevs)
	ncancel()
	if err != nil {
		return res, err
	}
	rateNoSync, useNoSync, err := throughput(ctx, e, na, nb, e.dmThroughput)
	if err != nil {
		return res, fmt.Errorf("fsync off: %w", err)
	}
	nr := min(ratchetMessages, e.dmThroughput)
	e.step("throughput stages: the ratchet alone, %d messages", nr)
	crypt, err := ratchetCost(nr)
	if err != nil {
		return res, err
	}
	e.step("raw throughput: pipelined %d-byte echoes", rawMessageSize)
	rawRate, err := rawThroughput(ctx, h1, h2.ID(), max(e.dmThroughput, 10_000))
	if err != nil {
		return res, fmt.Errorf("raw throughput: %w", err)
	}

	st := dmStages{rate: rate, rateNoSync: rateNoSync, rawRate: rawRate, crypt: crypt,
		cpu: use.cpu / time.Duration(e.dmThroughput), cpuNoSync: useNoSync.cpu / time.Duration(e.dmThroughput), busy: use.busy, cores: runtime.NumCPU()}
	const (
		floorName = "durable floor: fsynced raw Badger commit, raw new-stream round trip, fsynced commit at the other end"
		rt        = "raw new-stream round trip"
	)
	latFig := func(name string, p float64, target *Target) Figure {
		f := figVs(name, "ms", ms(percentile(lat, p)), ms(percentile(floors, p)), floorName, target)
		f.Floor, f.FloorName = ptrTo(ms(percentile(raw, p))), rt
		return f
	}
	res.Figures = []Figure{
		latFig("latency p50", .5, ratioAtMost(dmLatencyTarget)),
		latFig("latency p99", .99, nil),
		fig("durable floor: sender's fsynced commit p50", "ms", ms(percentile(commits, .5)), nil),
		fig("durable floor: recipient's fsynced commit p50", "ms", ms(percentile(floor.recipientCommits(), .5)), nil),
		figVs("throughput (encrypted, fsynced, acked)", "msg/s", rate, rawRate, "raw pipelined echoes on one stream", atLeast(dmThroughputTarget)),
	}
	res.Figures = append(res.Figures, st.figures()...)
	res.Note = "latency is Send (stored, fsynced) to the recipient's commit (fsynced) over a new stream; its durable floor does what that path must do at the " +
		"least with raw parts: a commit of a 256-byte record to a raw Badger store with storage's options (sync writes), a new stream between two raw " +
		"go-libp2p hosts, a commit of it at the other end to a second store on the same disk, and the echo back; the three latency loops take turns in " +
		fmt.Sprint(dmBlocks) + " blocks. Throughput counts until the sender holds every ack. Raw hosts are separate go-libp2p hosts with the same " +
		"transport (TCP), security and muxer. " + st.note()
	return res, nil
}

// dmStages are the measured stages of the 1:1 throughput.
type dmStages struct {
	rate, rateNoSync, rawRate float64       // msg/s: ours, ours without fsync, raw pipelined echoes
	crypt                     time.Duration // the ratchet per message, one core
	cpu, cpuNoSync            time.Duration // the process's CPU per message
	busy                      float64       // the machine's busy share during the burst (-1: unknown)
	cores                     int
}

// perMsg is the wall time a message takes at rate.
func perMsg(rate float64) float64 { return 1e6 / rate }

func (s dmStages) figures() []Figure {
	fsync := perMsg(s.rate) - perMsg(s.rateNoSync)
	figs := []Figure{
		fig("throughput with fsync off (stage: fsync)", "msg/s", s.rateNoSync, nil),
		fig("stage: wall time per message at that throughput", "µs", perMsg(s.rate), nil),
		fig("stage: of it, fsync (fsync on less off)", "µs", fsync, nil),
		fig("stage: process CPU per message (fsync on)", "µs", µs(s.cpu), nil),
		fig("stage: process CPU per message (fsync off)", "µs", µs(s.cpuNoSync), nil),
		fig(fmt.Sprintf("stage: ceiling the CPU sets (%d cores ÷ CPU per message)", s.cores), "msg/s", float64(s.cores)*1e6/max(1, µs(s.cpu)), nil),
		fig("stage: ratchet encrypt + decrypt with wire coding (CPU)", "µs", µs(s.crypt), nil),
		fig("stage: raw stream per message (pipelined echoes)", "µs", perMsg(s.rawRate), nil),
	}
	if s.busy >= 0 {
		figs = append(figs, fig("machine busy during the burst", "%", 100*s.busy, nil))
	}
	return figs
}

// note says where a burst's time goes, and whether the target was met.
func (s dmStages) note() string {
	verdict := "met"
	if s.rate < dmThroughputTarget {
		verdict = "not met"
	}
	fsync := perMsg(s.rate) - perMsg(s.rateNoSync)
	return fmt.Sprintf("Throughput target %s msg/s %s (%s msg/s); where a message's time goes, each stage measured in this run: "+
		"%s µs of wall time a message at that rate, %s µs of it fsync (the same burst with fsync off: %s msg/s); "+
		"the process spends %s µs of CPU a message (%s with fsync off), so %d cores cap it near %s msg/s; "+
		"of that CPU the ratchet's encryption and decryption (wire coding included) are %s µs and a raw stream's share %s µs a message (pipelined echoes), "+
		"leaving %s µs a message to the rest of the path (the store's transactions, framing, events; not split further here)",
		thousands(dmThroughputTarget), verdict, num(s.rate), num(perMsg(s.rate)), num(fsync), num(s.rateNoSync),
		num(µs(s.cpu)), num(µs(s.cpuNoSync)), s.cores, num(float64(s.cores)*1e6/max(1, µs(s.cpu))), num(µs(s.crypt)), num(perMsg(s.rawRate)),
		num(µs(s.cpu)-µs(s.crypt)-perMsg(s.rawRate)))
}

// contactPair starts two nodes with fsync on (unless mods change it) and
// makes them each other's contacts.
func contactPair(ctx context.Context, c *cluster, mods ...func(*node.Config)) (a, b *node.Node, err error) {
	if a, err = c.node(ctx, mods...); err != nil {
		return nil, nil, err
	}
	if b, err = c.node(ctx, mods...); err != nil {
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
// rate at which they were acked, and the usage from the first send to the
// last ack. It checks the recipient stored each once.
func throughput(ctx context.Context, e *env, a, b *node.Node, n int) (float64, usage, error) {
	const senders = 32
	// Start from an empty outbox, so that the acks counted are the burst's.
	if err := waitFor(ctx, "the outbox empty before the burst", e.deliveryTimeout, 5*time.Millisecond, func() (bool, error) {
		return a.Status().OutboxPending == 0, nil
	}); err != nil {
		return 0, usage{}, err
	}
	aEvents, cancel := a.Subscribe()
	defer cancel()
	acked := newAckTracker(aEvents)
	u0 := markUsage()
	start := u0.at
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
		return 0, usage{}, err
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
	use := usageSince(u0)
	cancel()
	acked.wait()
	if err != nil {
		return 0, usage{}, err
	}
	f, err := storedOnce(b, a.ID(), ids)
	if err != nil {
		return 0, usage{}, err
	}
	if !f.Clean() {
		return 0, usage{}, fmt.Errorf("throughput burst: %d of %d lost, %d duplicated", f.Lost, f.Sent, f.Duplicated)
	}
	return float64(n) / elapsed.Seconds(), use, nil
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
