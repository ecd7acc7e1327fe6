package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// reconnectListen are the first addresses of a reconnect node or raw host:
// TCP and QUIC on loopback, as a daemon listens by default. Each restarts
// on the ports it got then, as a daemon does from its config.json.
var reconnectListen = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

// runReconnect: reconnectNodes nodes (fsync on), each with a few contacts,
// all go down; every node, started alone while the others are down, queues
// reconnectMsgs messages per contact and goes down again; then all restart
// at once on their addresses. From the moment the restarts begin it times,
// per node, its outbox drained (the last of its messages stored by its
// recipient) and its connections to every contact, and for the whole run
// every message acked. The floor beside it: as many raw go-libp2p hosts with
// the node's transports restart at once on their addresses and dial their
// contacts from the addresses they knew.
func runReconnect(ctx context.Context, e *env) (res ScenarioResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()
	n := e.reconnectNodes
	contacts := reconnectContacts(n)

	e.step("starting %d nodes (TCP and QUIC on loopback, fsync on), %d contacts each", n, len(contacts[0]))
	nodes, err := startReconnectNodes(ctx, c, n)
	if err != nil {
		return res, err
	}
	ids := make([]peer.ID, n)
	for i, nd := range nodes {
		ids[i] = nd.ID()
	}
	for i, cs := range contacts { // one at a time: both sides add each other
		for _, j := range cs {
			if _, err := nodes[i].AddContact(ctx, nodes[j].Self().Invite, fmt.Sprint("node", j)); err != nil {
				return res, err
			}
		}
	}
	e.step("warm up: a message to each contact, until every outbox is empty")
	for i, cs := range contacts {
		for _, j := range cs {
			if _, err := nodes[i].Send(ctx, ids[j], node.Outgoing{Body: "hello"}); err != nil {
				return res, err
			}
		}
	}
	if err := waitFor(ctx, "the warm-up acked", e.deliveryTimeout, 20*time.Millisecond, outboxesEmpty(nodes)); err != nil {
		return res, err
	}
	cfgs := make([]node.Config, n)
	for i, nd := range nodes {
		cfgs[i] = c.configOf(nd)
		cfgs[i].ListenAddrs = nd.Status().ListenAddrs
	}
	if err := stopNodes(c, nodes); err != nil {
		return res, err
	}

	e.step("all down; each node, started alone, queues %d messages per contact", e.reconnectMsgs)
	sent, err := queueWhileDown(ctx, c, cfgs, ids, contacts, e.reconnectMsgs)
	if err != nil {
		return res, err
	}

	e.step("restarting all %d nodes at once; %d messages queued", n, len(sent))
	r, err := restartAll(ctx, e, c, cfgs, ids, contacts, sent)
	if err != nil {
		return res, err
	}
	res.Faults = &r.faults

	e.step("floor: %d raw go-libp2p hosts restart at once and dial their contacts", n)
	raw, err := rawReconnect(ctx, e, c, contacts)
	if err != nil {
		return res, fmt.Errorf("raw hosts: %w", err)
	}

	const floor = "raw hosts restarted, connected to all contacts"
	rawP50, rawMax := ms(percentile(raw, .5)), ms(slices.Max(raw))
	if r.timedOut {
		why := fmt.Sprintf("not drained after %v", e.deliveryTimeout)
		res.Figures = []Figure{
			missing("outbox drained p50 (per node)", "ms", why, nil),
			missing("outbox drained max (per node)", "ms", why, nil),
		}
	} else {
		res.Figures = []Figure{
			figVs("outbox drained p50 (per node)", "ms", ms(percentile(r.drained, .5)), rawP50, floor, nil),
			figVs("outbox drained max (per node)", "ms", ms(slices.Max(r.drained)), rawMax, floor, nil),
			figVs("total: every message acked", "ms", ms(r.acked), rawMax, floor, nil),
			figVs("connected to all contacts p50", "ms", ms(percentile(r.connected, .5)), rawP50, floor, nil),
			figVs("connected to all contacts max", "ms", ms(slices.Max(r.connected)), rawMax, floor, nil),
		}
	}
	res.Figures = append(res.Figures, faultFigures(r.faults)...)
	res.Note = fmt.Sprintf("one run per invocation (the bench has no repeat option). %d nodes, fsync on, each with %d contacts (ring neighbours and the opposite node), "+
		"%d messages per contact queued while all were down (each node started alone to queue them), so %d in all; "+
		"all restart at once on their TCP and QUIC loopback ports, default outbox retries (1 s to 5 min). "+
		"Times run from the start of the restarts: a node's outbox is drained when the last of its messages is stored by its recipient "+
		"(the recipient's event); acked is the sender's state event; connected is polled every 5 ms. "+
		"The floor: %d raw go-libp2p hosts (TCP and QUIC, TLS and Noise, yamux) restart at once on their ports and keys, "+
		"each with its contacts' addresses from the run before in its peerstore, and dial them; timed to a connection to every contact",
		n, len(contacts[0]), e.reconnectMsgs, len(sent), n)
	if r.polled > 0 {
		res.Note += fmt.Sprintf("; %d messages had an event missed and were timed by polling the stores (every 250 ms)", r.polled)
	}
	return res, nil
}

// reconnectContacts gives node i of n its contacts: its ring neighbours and
// the node opposite, so that every contact is mutual.
func reconnectContacts(n int) [][]int {
	out := make([][]int, n)
	for i := range n {
		for _, j := range []int{(i + n - 1) % n, (i + 1) % n, (i + n/2) % n} {
			if j != i && !slices.Contains(out[i], j) {
				out[i] = append(out[i], j)
			}
		}
	}
	return out
}

// startReconnectNodes starts n nodes at once on TCP and QUIC loopback ports.
func startReconnectNodes(ctx context.Context, c *cluster, n int) ([]*node.Node, error) {
	nodes := make([]*node.Node, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			nodes[i], errs[i] = c.node(ctx, func(cfg *node.Config) { cfg.ListenAddrs = slices.Clone(reconnectListen) })
		})
	}
	wg.Wait()
	return nodes, errors.Join(errs...)
}

// stopNodes closes nodes at once.
func stopNodes(c *cluster, nodes []*node.Node) error {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, nd := range nodes {
		if nd != nil {
			wg.Go(func() { errs[i] = c.stop(nd) })
		}
	}
	wg.Wait()
	return errors.Join(errs...)
}

// outboxesEmpty is a waitFor condition: no node has a message queued.
func outboxesEmpty(nodes []*node.Node) func() (bool, error) {
	return func() (bool, error) {
		for _, nd := range nodes {
			if nd.Status().OutboxPending > 0 {
				return false, nil
			}
		}
		return true, nil
	}
}

// queued is a message queued while its recipient was down.
type queued struct {
	id       storage.MessageID
	from, to int
}

// queueWhileDown starts each node alone (every other one is down), queues
// msgs messages to each of its contacts, checks that they sit in its outbox
// and closes it again.
func queueWhileDown(ctx context.Context, c *cluster, cfgs []node.Config, ids []peer.ID, contacts [][]int, msgs int) ([]queued, error) {
	var sent []queued
	for i, cfg := range cfgs {
		cfg.Gater = &node.LoopbackGater{}
		nd, err := c.start(ctx, cfg)
		if err != nil {
			return nil, err
		}
		for _, j := range contacts[i] {
			for k := range msgs {
				m, err := nd.Send(ctx, ids[j], node.Outgoing{Body: fmt.Sprintf("queued %d of node%d for node%d", k, i, j)})
				if err != nil {
					return nil, errors.Join(err, c.stop(nd))
				}
				sent = append(sent, queued{id: m.ID, from: i, to: j})
			}
		}
		pending := nd.Status().OutboxPending
		if err := c.stop(nd); err != nil {
			return nil, err
		}
		if want := len(contacts[i]) * msgs; pending != want {
			return nil, fmt.Errorf("node%d, alone, holds %d messages in its outbox, want %d", i, pending, want)
		}
	}
	return sent, nil
}

// reconnectTimes is what restartAll measured.
type reconnectTimes struct {
	drained   []time.Duration // per node: to the last of its messages stored by its recipient
	connected []time.Duration // per node: to a connection to every contact
	acked     time.Duration   // to every message acked
	polled    int             // messages with an event missed, timed by polling the stores
	timedOut  bool            // not everything was delivered in time: see faults
	faults    Faults
}

// restartAll starts every node again at once, each subscribed to its events
// before it starts, and waits until every queued message is stored by its
// recipient and acked, and every node is connected to all its contacts.
// The recipients' stores are then counted for losses and duplicates.
func restartAll(ctx context.Context, e *env, c *cluster, cfgs []node.Config, ids []peer.ID, contacts [][]int, sent []queued) (r reconnectTimes, err error) {
	n := len(cfgs)
	tr := newDrainTracker(sent)
	var (
		mu      sync.Mutex
		nodes   = make([]*node.Node, n)
		cancels []func()
		readers sync.WaitGroup
		starts  sync.WaitGroup
	)
	defer func() { // after starts.Wait (deferred below, so run first)
		mu.Lock()
		for _, cancel := range cancels {
			cancel()
		}
		mu.Unlock()
		readers.Wait()
	}()
	startErrs := make([]error, n)
	failed := make(chan struct{})
	var failOnce sync.Once
	start := time.Now()
	for i := range n {
		cfg := cfgs[i]
		cfg.Gater = &node.LoopbackGater{}
		starts.Go(func() {
			_, err := c.startHooked(ctx, cfg, func(nd *node.Node) {
				evs, cancel := nd.Subscribe()
				mu.Lock()
				nodes[i] = nd
				cancels = append(cancels, cancel)
				mu.Unlock()
				readers.Go(func() { tr.read(evs) })
			})
			if err != nil {
				startErrs[i] = fmt.Errorf("node%d: %w", i, err)
				failOnce.Do(func() { close(failed) })
			}
		})
	}
	defer starts.Wait()

	r.connected = make([]time.Duration, n)
	polls := 0
	werr := waitFor(ctx, "every queued message stored and acked", e.deliveryTimeout, 5*time.Millisecond, func() (bool, error) {
		select {
		case <-failed:
			starts.Wait()
			return false, errors.Join(startErrs...)
		default:
		}
		now := time.Since(start)
		mu.Lock()
		cur := slices.Clone(nodes)
		mu.Unlock()
		all := true
		for i, nd := range cur {
			if r.connected[i] != 0 {
				continue
			}
			if nd == nil || !connectedToAll(nd, ids, contacts[i]) {
				all = false
				continue
			}
			r.connected[i] = now
		}
		if polls++; polls%50 == 0 { // events can be missed: look in the stores
			if err := tr.poll(cur, ids); err != nil {
				return false, err
			}
		}
		return all && tr.complete(), nil
	})
	switch {
	case errors.Is(werr, ErrTimeout):
		r.timedOut = true
	case werr != nil:
		return r, werr
	}
	starts.Wait()
	if err := errors.Join(startErrs...); err != nil {
		return r, err
	}
	if !r.timedOut {
		// Acked: the outboxes hold nothing more, so nothing is resent while
		// the stores are counted.
		if err := waitFor(ctx, "every outbox empty", e.deliveryTimeout, 20*time.Millisecond, outboxesEmpty(nodes)); err != nil {
			return r, err
		}
		r.drained, r.acked, r.polled = tr.times(start, n)
	}
	r.faults, err = countQueued(nodes, ids, sent)
	if err != nil {
		return r, err
	}
	return r, stopNodes(c, nodes)
}

// connectedToAll reports whether nd has a connection to each of its contacts.
func connectedToAll(nd *node.Node, ids []peer.ID, contacts []int) bool {
	peers := nd.Peers()
	for _, j := range contacts {
		if !slices.Contains(peers, ids[j]) {
			return false
		}
	}
	return true
}

// countQueued counts the queued messages in their recipients' stores.
func countQueued(nodes []*node.Node, ids []peer.ID, sent []queued) (Faults, error) {
	byPair := map[[2]int][]storage.MessageID{}
	for _, q := range sent {
		k := [2]int{q.from, q.to}
		byPair[k] = append(byPair[k], q.id)
	}
	var total Faults
	for k, want := range byPair {
		f, err := storedOnce(nodes[k[1]], ids[k[0]], want)
		if err != nil {
			return total, err
		}
		total.Sent += f.Sent
		total.Delivered += f.Delivered
		total.Lost += f.Lost
		total.Duplicated += f.Duplicated
	}
	return total, nil
}

// drainTracker notes when each queued message was stored by its recipient
// and acked to its sender, from the nodes' events (or, for an event missed,
// from the stores).
type drainTracker struct {
	sent  []queued
	index map[storage.MessageID]int

	mu                        sync.Mutex
	stored, acked             []time.Time
	storedPolled, ackedPolled []bool // the time is a poll's: the event was not seen
	nStored, nAcked           int
}

func newDrainTracker(sent []queued) *drainTracker {
	t := &drainTracker{sent: sent, index: map[storage.MessageID]int{}, stored: make([]time.Time, len(sent)), acked: make([]time.Time, len(sent)),
		storedPolled: make([]bool, len(sent)), ackedPolled: make([]bool, len(sent))}
	for i, q := range sent {
		t.index[q.id] = i
	}
	return t
}

// read notes the events of one node until its subscription ends.
func (t *drainTracker) read(evs <-chan node.Event) {
	for ev := range evs {
		switch m := ev.Message; {
		case m == nil:
		case ev.Type == node.EventMessage && m.Direction == storage.Inbound:
			t.mark(m.ID, ev.Time, false, false)
		case ev.Type == node.EventMessageState && m.Direction == storage.Outbound && m.State.Rank() >= storage.StateDelivered.Rank():
			t.mark(m.ID, ev.Time, true, false)
		}
	}
}

// mark notes when message id was stored (or acked). A time found by
// polling stands until the message's event brings the exact one.
func (t *drainTracker) mark(id storage.MessageID, at time.Time, ack, polled bool) {
	i, ok := t.index[id]
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	slot, byPoll, count := &t.stored[i], &t.storedPolled[i], &t.nStored
	if ack {
		slot, byPoll, count = &t.acked[i], &t.ackedPolled[i], &t.nAcked
	}
	switch {
	case slot.IsZero():
		*slot, *byPoll = at, polled
		*count++
	case *byPoll && !polled:
		*slot, *byPoll = at, false
	}
}

func (t *drainTracker) complete() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.nStored == len(t.sent) && t.nAcked == len(t.sent)
}

// poll looks in the stores for messages whose events have not been seen.
func (t *drainTracker) poll(nodes []*node.Node, ids []peer.ID) error {
	t.mu.Lock()
	var storedAt, ackedAt [][2]int // (from, to) pairs with a message missing
	for i, q := range t.sent {
		k := [2]int{q.from, q.to}
		if t.stored[i].IsZero() && !slices.Contains(storedAt, k) {
			storedAt = append(storedAt, k)
		}
		if t.acked[i].IsZero() && !slices.Contains(ackedAt, k) {
			ackedAt = append(ackedAt, k)
		}
	}
	t.mu.Unlock()
	now := time.Now()
	look := func(pairs [][2]int, ack bool) error {
		for _, k := range pairs {
			holder, other := nodes[k[1]], ids[k[0]] // the recipient's store
			if ack {
				holder, other = nodes[k[0]], ids[k[1]] // the sender's
			}
			if holder == nil {
				continue
			}
			ms, err := holder.Messages(other, 1<<30, time.Time{})
			if err != nil {
				return err
			}
			for _, m := range ms {
				if !ack && m.Direction == storage.Inbound || ack && m.Direction == storage.Outbound && m.State.Rank() >= storage.StateDelivered.Rank() {
					t.mark(m.ID, now, ack, true)
				}
			}
		}
		return nil
	}
	return errors.Join(look(storedAt, false), look(ackedAt, true))
}

// times returns, per sender, the time from start to its last message
// stored; the time to the last ack; and how many messages have a time from
// polling (their events were not seen).
func (t *drainTracker) times(start time.Time, n int) (drained []time.Duration, acked time.Duration, polled int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	drained = make([]time.Duration, n)
	for i, q := range t.sent {
		drained[q.from] = max(drained[q.from], t.stored[i].Sub(start))
		acked = max(acked, t.acked[i].Sub(start))
		if t.storedPolled[i] || t.ackedPolled[i] {
			polled++
		}
	}
	return drained, acked, polled
}

// rawReconnect is the floor: len(contacts) raw hosts with the node's
// transports and security start on loopback, connect to their contacts and
// close; then all start again at once with the same keys and ports, each
// given its contacts' addresses from the first run, and dial them. It
// returns, per host, the time from the restart to a connection to every
// contact (whoever dialled).
func rawReconnect(ctx context.Context, e *env, c *cluster, contacts [][]int) ([]time.Duration, error) {
	n := len(contacts)
	keys := make([]crypto.PrivKey, n)
	ids := make([]peer.ID, n)
	addrs := make([][]ma.Multiaddr, n)
	listen := make([][]string, n)
	hosts := make([]host.Host, n)
	for i := range n {
		k, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			return nil, err
		}
		h, err := c.nodeLikeHost(k, reconnectListen)
		if err != nil {
			return nil, err
		}
		keys[i], ids[i], hosts[i], addrs[i] = k, h.ID(), h, h.Addrs()
		for _, a := range addrs[i] {
			listen[i] = append(listen[i], a.String())
		}
	}
	for i, cs := range contacts {
		for _, j := range cs {
			if j > i {
				if err := hosts[i].Connect(ctx, peer.AddrInfo{ID: ids[j], Addrs: addrs[j]}); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, h := range hosts {
		if err := c.stopHost(h); err != nil {
			return nil, err
		}
	}

	ready := make([]time.Duration, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			ready[i], errs[i] = rawRestart(ctx, e, c, keys[i], listen[i], ids, addrs, contacts[i], start)
		})
	}
	wg.Wait()
	return ready, errors.Join(errs...)
}

// rawRestart starts one raw host again and dials its contacts; it returns
// the time from start until it has a connection to each.
func rawRestart(ctx context.Context, e *env, c *cluster, key crypto.PrivKey, listen []string, ids []peer.ID, addrs [][]ma.Multiaddr, mine []int, start time.Time) (time.Duration, error) {
	h, err := c.nodeLikeHost(key, listen)
	if err != nil {
		return 0, err
	}
	want := map[peer.ID]bool{}
	for _, j := range mine {
		want[ids[j]] = true
	}
	var (
		mu   sync.Mutex
		got  = map[peer.ID]bool{}
		last time.Time
		done = make(chan struct{})
	)
	mark := func(p peer.ID) {
		mu.Lock()
		defer mu.Unlock()
		if !want[p] || got[p] {
			return
		}
		got[p] = true
		if len(got) == len(want) {
			last = time.Now()
			close(done)
		}
	}
	h.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, conn network.Conn) { mark(conn.RemotePeer()) }})
	for _, j := range mine {
		h.Peerstore().AddAddrs(ids[j], addrs[j], peerstore.RecentlyConnectedAddrTTL)
		if h.Network().Connectedness(ids[j]) == network.Connected { // before Notify
			mark(ids[j])
		}
	}
	dctx, cancel := context.WithCancel(ctx)
	var dials sync.WaitGroup
	defer dials.Wait()
	defer cancel()
	for _, j := range mine {
		dials.Go(func() {
			// A contact not up yet fails; it dials us when it comes up.
			_ = h.Connect(dctx, peer.AddrInfo{ID: ids[j]})
		})
	}
	timeout := time.NewTimer(e.deliveryTimeout)
	defer timeout.Stop()
	select {
	case <-done:
		return last.Sub(start), nil
	case <-timeout.C:
		return 0, fmt.Errorf("%w: raw host %s not connected to its contacts after %v", ErrTimeout, h.ID().ShortString(), e.deliveryTimeout)
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}
