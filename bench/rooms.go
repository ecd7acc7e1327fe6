package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/pubsub"
)

const (
	// roomRate is how many lines a second the speaker sends.
	roomRate = 50
	// roomHeartbeat is GossipSub's heartbeat in the room scenarios, ours and
	// raw alike: GossipSub's default, as the daemon runs (a shorter one
	// costs a hundred nodes in one process more CPU than the messages do).
	roomHeartbeat = time.Second
	// joinAttempts bounds how often a listener tries to join: on a loaded
	// machine a join can time out while a hundred nodes start.
	joinAttempts = 5
)

// roomResult is one room size's outcome, ours or raw.
type roomResult struct {
	delivered float64 // fraction of (line, receiver) pairs delivered
	p50, p99  time.Duration
	cpu       time.Duration // process CPU per delivered message
	faults    Faults
	edges     [][2]int // the room's connection graph, by node index (0: host)
	retried   int      // joins that had to be tried again
	rate      float64  // lines sent a second (groups: the rate achieved)
}

// runRooms measures a live room at each size: one speaker (the host) sends
// lines at 50 a second and every other node times each arrival. Beside it,
// raw GossipSub (our pubsub wrapper with an accept-all validator: no
// signature, no store, no room state) on the room's own connection graph,
// with a topic name as long and payloads as large as a room's, and then
// signed raw GossipSub, the same with one Ed25519 signature per payload
// (rawGossip.signed).
//
// A size that fails ends the scenario with an error but keeps the figures of
// the sizes before it.
func runRooms(ctx context.Context, e *env) (res ScenarioResult, err error) {
	retried := 0
	defer func() {
		res.Note = fmt.Sprintf("all nodes in one process on this machine; the host speaks %d lines at %d a second; "+
			"room nodes skip fsync (100 stores on one disk would measure the disk); GossipSub heartbeat %v (the default) for both; "+arrivalNote+"; "+
			"CPU is the whole process's per delivered message; delivered counts lines in each listener's room state after sync; "+
			"%d joins were retried while the rooms filled; "+signedNote,
			e.roomLines, roomRate, roomHeartbeat, retried)
	}()
	for _, n := range e.roomSizes {
		ours, err := e.roomOnce(ctx, n)
		retried += ours.retried
		if err != nil {
			return res, fmt.Errorf("%d nodes: %w", n, err)
		}
		raw, err := e.rawRoomOnce(ctx, n, ours.edges, false)
		if err != nil {
			return res, fmt.Errorf("%d nodes, raw: %w", n, err)
		}
		signed, err := e.rawRoomOnce(ctx, n, ours.edges, true)
		if err != nil {
			return res, fmt.Errorf("%d nodes, signed raw: %w", n, err)
		}
		pre := fmt.Sprintf("%d nodes: ", n)
		res.Figures = append(res.Figures,
			figVs(pre+"delivered", "%", 100*ours.delivered, 100*raw.delivered, rawBase, exactly(100)),
			figVs(pre+"latency p50", "ms", ms(ours.p50), ms(raw.p50), rawBase, ratioAtMost(1.5)),
			figVs(pre+"latency p99", "ms", ms(ours.p99), ms(raw.p99), rawBase, nil),
			figVs(pre+"CPU per message", "µs", µs(ours.cpu), µs(raw.cpu), rawBase, nil),
			fig(pre+"duplicated", "msgs", float64(ours.faults.Duplicated), exactly(0)),
		)
		res.Figures = append(res.Figures, signedFigures(pre, ours, raw, signed)...)
		res.Rooms = append(res.Rooms, RoomPoint{Nodes: n, P50: ms(ours.p50), P99: ms(ours.p99), RawP50: ms(raw.p50), RawP99: ms(raw.p99), SignedRawP50: ms(signed.p50)})
	}
	return res, nil
}

// signedNote says what the signed raw baseline is.
const signedNote = "signed raw GossipSub is raw GossipSub on the same graph whose sender signs each payload with Ed25519 as it sends it " +
	"and whose validator checks that signature before GossipSub delivers or forwards it: what the one check every room and group message needs costs by itself"

// The baselines' names in the figures.
const (
	rawBase    = "raw GossipSub"
	signedBase = "signed raw GossipSub"
)

// signedFigures set ours (and raw GossipSub) beside signed raw GossipSub:
// what one Ed25519 check of every message costs by itself, and what ours
// costs beyond it. They have no target: the target is against raw.
func signedFigures(pre string, ours, raw, signed roomResult) []Figure {
	return []Figure{
		figVs(pre+"latency p50 beside signed raw", "ms", ms(ours.p50), ms(signed.p50), signedBase, nil),
		figVs(pre+"signed raw's own p50", "ms", ms(signed.p50), ms(raw.p50), rawBase, nil),
		figVs(pre+"signed raw delivered", "%", 100*signed.delivered, 100*raw.delivered, rawBase, nil),
	}
}

// arrivalNote says where latency ends, ours and raw alike: at the first
// goroutine that reads the topic's messages from our pubsub wrapper. Raw
// GossipSub's is the bench's reader, timing the message as it gets it; ours
// is the node's reader, which decodes and applies the line and announces it
// in an event stamped then (Event.Time). Timing ours where the bench's
// subscriber gets the event instead would add one more goroutine hand-off
// that raw has no counterpart for.
const arrivalNote = "latency runs from the send call to the first reader of the topic's messages: raw, the bench's reader getting the message; " +
	"ours, the node's reader having applied the room line (or decrypted and stored the group text) and announced it (the event's time)"

// roomFixture is a room of nodes: the host and its listeners.
type roomFixture struct {
	c         *cluster
	host      *node.Node
	id        room.ID
	listeners []*node.Node
	retried   atomic.Int64 // joins tried again
	arr       *arrivals[room.MessageID]
	wg        sync.WaitGroup

	mu      sync.Mutex
	cancels []func()
}

// roomNodeConfig makes room nodes: no fsync, short heartbeat, sync every
// interval (0: the node's default).
func roomNodeConfig(syncEvery time.Duration, boot string) func(*node.Config) {
	return func(cfg *node.Config) {
		cfg.NoSync = true
		cfg.PubSubHeartbeat = roomHeartbeat
		cfg.RoomSyncInterval = syncEvery
		if boot != "" {
			cfg.Bootstrap = []string{boot}
		}
	}
}

// newRoomFixture starts a host with a room and n-1 listeners that joined it,
// four at a time.
func newRoomFixture(ctx context.Context, e *env, c *cluster, n int, syncEvery time.Duration) (*roomFixture, error) {
	host, err := c.node(ctx, roomNodeConfig(syncEvery, ""))
	if err != nil {
		return nil, err
	}
	info, err := host.CreateRoom(ctx, "bench", "", time.Time{}, nil)
	if err != nil {
		return nil, err
	}
	f := &roomFixture{c: c, host: host, id: info.ID, arr: newArrivals[room.MessageID](), listeners: make([]*node.Node, n-1)}
	boot := host.Addrs()[0].String()
	sem := make(chan struct{}, 4)
	errs := make([]error, n-1)
	var wg sync.WaitGroup
	for i := range n - 1 {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			nd, err := c.node(ctx, roomNodeConfig(syncEvery, boot))
			if err != nil {
				errs[i] = err
				return
			}
			f.listeners[i] = nd
			f.listen(i, nd)
			for try := 1; ; try++ {
				_, err := nd.JoinRoom(ctx, info.ID.String(), nil)
				if err == nil {
					break
				}
				if try == joinAttempts || ctx.Err() != nil {
					errs[i] = fmt.Errorf("listener %d joins (%d tries): %w", i, try, err)
					break
				}
				f.retried.Add(1)
			}
		})
		if (i+1)%20 == 0 {
			e.step("%d of %d listeners started", i+1, n-1)
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		f.close()
		return nil, err
	}
	return f, nil
}

// listen records room chat arrivals at listener i.
func (f *roomFixture) listen(i int, nd *node.Node) {
	evs, cancel := nd.Subscribe()
	f.mu.Lock()
	f.cancels = append(f.cancels, cancel)
	f.mu.Unlock()
	f.wg.Go(func() { // ends when the subscription is cancelled or the node closes
		for ev := range evs {
			if ev.Type == node.EventRoomMessage && ev.Room != nil && ev.Room.Kind == room.KindChat {
				f.arr.arrived(i, ev.Room.ID, ev.Time) // see arrivalNote
			}
		}
	})
}

// close ends the subscriptions (the cluster closes the nodes).
func (f *roomFixture) close() {
	f.mu.Lock()
	cancels := f.cancels
	f.cancels = nil
	f.mu.Unlock()
	for _, c := range cancels {
		c()
	}
	f.wg.Wait()
}

// speak sends lines at roomRate from the host; between lines it calls
// each(i) (may be nil). It returns the IDs sent.
func (f *roomFixture) speak(ctx context.Context, lines int, each func(i int) error) ([]room.MessageID, error) {
	tick := time.NewTicker(time.Second / roomRate)
	defer tick.Stop()
	ids := make([]room.MessageID, 0, lines)
	for i := range lines {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		now := time.Now()
		id, err := f.host.RoomSay(ctx, f.id, fmt.Sprint("line ", i))
		if err != nil {
			return nil, err
		}
		f.arr.markSent(id, now)
		ids = append(ids, id)
		if each != nil {
			if err := each(i); err != nil {
				return nil, err
			}
		}
	}
	return ids, nil
}

// delivered counts the lines each listener's room state holds.
func (f *roomFixture) delivered(ids []room.MessageID, listeners []*node.Node) (int, error) {
	total := 0
	for _, nd := range listeners {
		chat, err := nd.RoomChat(f.id, 0)
		if err != nil {
			return 0, err
		}
		have := make(map[room.MessageID]bool, len(chat))
		for _, c := range chat {
			have[c.ID] = true
		}
		for _, id := range ids {
			if have[id] {
				total++
			}
		}
	}
	return total, nil
}

// roomOnce runs our room of n nodes.
func (e *env) roomOnce(ctx context.Context, n int) (r roomResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()
	e.step("%d nodes: starting the host and %d listeners", n, n-1)
	f, err := newRoomFixture(ctx, e, c, n, 0)
	if err != nil {
		return r, err
	}
	defer f.close()
	r.retried = int(f.retried.Load())
	e.step("%d nodes: letting the mesh form (%v), then %d lines at %d/s", n, e.settle, e.roomLines, roomRate)
	if err := settleFor(ctx, e.settle); err != nil {
		return r, err
	}
	edges := connectionGraph(append([]*node.Node{f.host}, f.listeners...))
	cpu0 := cpuTime()
	ids, err := f.speak(ctx, e.roomLines, nil)
	if err != nil {
		return r, err
	}
	want := len(ids) * (n - 1)
	e.step("%d nodes: lines sent, waiting for %d deliveries", n, want)
	got, polls := 0, 0
	err = waitFor(ctx, "every line at every listener", e.deliveryTimeout, 20*time.Millisecond, func() (bool, error) {
		// The events are the cheap check; the room states are the truth
		// (a subscriber that falls behind misses events), read now and then.
		polls++
		if f.arr.count() < want && polls%25 != 0 {
			return false, nil
		}
		var err error
		got, err = f.delivered(ids, f.listeners)
		return got == want, err
	})
	cpu := cpuTime() - cpu0
	if err != nil && !errors.Is(err, ErrTimeout) {
		return r, err
	}
	lat := f.arr.latencies()
	return roomResult{
		delivered: float64(got) / float64(want),
		p50:       percentile(lat, .5),
		p99:       percentile(lat, .99),
		cpu:       cpu / time.Duration(max(1, got)),
		faults:    Faults{Sent: want, Delivered: got, Lost: want - got, Duplicated: f.arr.duplicates()},
		edges:     edges,
		retried:   r.retried,
	}, nil
}

// connectionGraph lists which nodes are connected, by index, each pair once.
func connectionGraph(nodes []*node.Node) [][2]int {
	index := map[peer.ID]int{}
	for i, nd := range nodes {
		index[nd.ID()] = i
	}
	var edges [][2]int
	for i, nd := range nodes {
		for _, p := range nd.Peers() {
			if j, ok := index[p]; ok && i < j {
				edges = append(edges, [2]int{i, j})
			}
		}
	}
	return edges
}

// roomMessageSize is the size of a signed room chat line of text, for the
// raw payloads.
func roomMessageSize(text string) (int, error) {
	body, err := roomstate.EncodeChat(roomstate.ChatBody{Text: text})
	if err != nil {
		return 0, err
	}
	m := room.Message{Room: room.ID{1}, Kind: room.KindChat, Seq: 100, Timestamp: time.Now(), Body: body}
	if err := m.Sign(keys.GeneratePrivateKey()); err != nil {
		return 0, err
	}
	data, err := m.MarshalBinary()
	return len(data), err
}

// rawRoomOnce runs raw GossipSub with n hosts connected as the room's nodes
// were (edges), on a topic named like a room's, with payloads of a signed
// room message's size; signed, each payload also carries an Ed25519
// signature that every receiver checks (see rawGossip.signed).
func (e *env) rawRoomOnce(ctx context.Context, n int, edges [][2]int, signed bool) (r roomResult, err error) {
	size, err := roomMessageSize("line 100")
	if err != nil {
		return r, err
	}
	return e.rawGossipOnce(ctx, rawGossip{
		label: fmt.Sprintf("%d nodes", n), n: n, edges: edges, topic: node.RoomTopicPrefix + room.ID{1}.String(),
		size: size, lines: e.roomLines, settle: e.settle, signed: signed,
	})
}

// rawGossip is one raw GossipSub run: n hosts connected by edges, on topic;
// host 0 publishes lines payloads of size bytes at roomRate, settle after the
// hosts connected, and the others time each arrival. label starts the
// progress lines.
type rawGossip struct {
	label       string
	n           int
	edges       [][2]int
	topic       string
	size, lines int
	settle      time.Duration
	// signed makes the publisher sign each payload with an Ed25519 key
	// (inside the timed send, as our speaker does) and every receiver's
	// validator check that signature, through the same keys.PublicKey.Verify
	// our nodes use, before GossipSub delivers or forwards the message. That
	// is the one check the rooms and groups must make of every message, with
	// nothing else of ours: it tells what the signature alone costs.
	signed bool
}

// rawSignDomain is the signature domain of the signed raw payloads.
const rawSignDomain = "bench raw line"

// rawLine is raw payload i of size bytes: "line NNNNNN" padded; signed, a
// signature by sk of the rest comes first.
func rawLine(i, size int, sk *keys.PrivateKey) []byte {
	text := fmt.Appendf(nil, "line %06d", i)
	if sk == nil {
		return append(text, make([]byte, max(0, size-len(text)))...)
	}
	body := append(text, make([]byte, max(0, size-keys.SignatureSize-len(text)))...)
	return append(sk.Sign(rawSignDomain, body), body...)
}

// rawValidator accepts every message, or, for signed runs, those carrying
// pk's signature of the rest.
func rawValidator(pk *keys.PublicKey) pubsub.Validator {
	return func(_ context.Context, _ peer.ID, data []byte) pubsub.Result {
		if pk == nil {
			return pubsub.Accept
		}
		if len(data) < keys.SignatureSize || !pk.Verify(rawSignDomain, data[keys.SignatureSize:], data[:keys.SignatureSize]) {
			return pubsub.Reject
		}
		return pubsub.Accept
	}
}

// rawGossipOnce runs g.
func (e *env) rawGossipOnce(ctx context.Context, g rawGossip) (r roomResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()
	what := "raw GossipSub"
	if g.signed {
		what = "signed raw GossipSub"
	}
	e.step("%s, %s: starting %d hosts", g.label, what, g.n)
	var sk *keys.PrivateKey
	var pk *keys.PublicKey
	if g.signed {
		k := keys.GeneratePrivateKey()
		p := k.Public()
		sk, pk = &k, &p
	}
	type member struct {
		h     host.Host
		ps    *pubsub.PubSub
		topic *pubsub.Topic
		info  peer.AddrInfo
	}
	var members []member
	var wg sync.WaitGroup // the readers: each ends when its PubSub closes
	defer func() {
		for _, m := range members {
			m.ps.Close()
		}
		wg.Wait()
	}()
	for range g.n {
		h, err := c.rawHost()
		if err != nil {
			return r, err
		}
		ps, err := pubsub.New(ctx, pubsub.Config{Host: h, Heartbeat: roomHeartbeat, Scoring: true})
		if err != nil {
			return r, err
		}
		t, err := ps.Join(g.topic, rawValidator(pk))
		if err != nil {
			ps.Close()
			return r, err
		}
		members = append(members, member{h, ps, t, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}})
	}
	for _, ed := range g.edges {
		if err := members[ed[1]].h.Connect(ctx, members[ed[0]].info); err != nil {
			return r, err
		}
	}
	// Lines are told apart by their message ID (the content hash), which
	// GossipSub computed anyway.
	arr := newArrivals[string]()
	for i, m := range members[1:] {
		wg.Go(func() {
			for msg := range m.topic.Messages() {
				arr.arrived(i, msg.ID, time.Now())
			}
		})
	}
	e.step("%s, %s: letting the mesh form (%v), then %d messages at %d/s", g.label, what, g.settle, g.lines, roomRate)
	if err := settleFor(ctx, g.settle); err != nil {
		return r, err
	}
	cpu0 := cpuTime()
	tick := time.NewTicker(time.Second / roomRate)
	defer tick.Stop()
	for i := range g.lines {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return r, ctx.Err()
		}
		// Making the line is part of the send (its signature, as in
		// RoomSay); its ID is hashed after the publish, off the clock, and
		// arrivals that beat it wait in arr until then.
		sent := time.Now()
		data := rawLine(i, g.size, sk)
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		err := members[0].topic.Publish(pctx, data)
		cancel()
		if err != nil {
			return r, err
		}
		arr.markSent(pubsub.DefaultMessageID(g.topic, data), sent)
	}
	want := g.lines * (g.n - 1)
	// Raw GossipSub has no repair: wait a while for stragglers, no longer.
	err = waitFor(ctx, "raw deliveries", 10*time.Second, 20*time.Millisecond, func() (bool, error) { return arr.count() >= want, nil })
	cpu := cpuTime() - cpu0
	if err != nil && !errors.Is(err, ErrTimeout) {
		return r, err
	}
	got := arr.count()
	lat := arr.latencies()
	return roomResult{
		delivered: float64(got) / float64(want),
		p50:       percentile(lat, .5),
		p99:       percentile(lat, .99),
		cpu:       cpu / time.Duration(max(1, got)),
	}, nil
}

// settleFor lets a room's mesh form for d and then collects the garbage of
// the sizes measured before (a hundred stores' worth), so that neither ours
// nor raw GossipSub pays for an earlier run's heap while it is timed.
func settleFor(ctx context.Context, d time.Duration) error {
	if err := sleep(ctx, d); err != nil {
		return err
	}
	runtime.GC()
	return nil
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
