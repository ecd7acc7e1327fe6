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

// The targets of a room and a group size, against signed raw GossipSub's
// medians: latency p50 (judged only where signed raw left the machine under
// BusyLimit busy) and CPU per delivered message (groups decrypt and store
// too).
const (
	roomLatencyTarget  = 1.25
	roomCPUTarget      = 1.25
	groupLatencyTarget = 1.25
	groupCPUTarget     = 1.4
)

// runRooms measures a live room at each size: one speaker (the host) sends
// lines at 50 a second and every other node times each arrival. Beside it,
// signed raw GossipSub (rawGossip.signed: one Ed25519 signature per payload,
// checked by every receiver, as go-libp2p-pubsub's default StrictSign does)
// and raw GossipSub (our pubsub wrapper with an accept-all validator: no
// signature, no store, no room state), both on the room's own connection
// graph, with a topic name as long and payloads as large as a room's. Each
// size runs e.runs rounds of the three (compare), and the last round
// searches the saturation point of ours and of signed raw.
//
// A size that fails ends the scenario with an error but keeps the figures of
// the sizes before it.
func runRooms(ctx context.Context, e *env) (res ScenarioResult, err error) {
	retried, restarts := 0, 0
	defer func() {
		res.Note = fmt.Sprintf("all nodes in one process on this machine; %s; the host speaks %d lines at %d a second a run; "+
			"room nodes skip fsync (100 stores on one disk would measure the disk); GossipSub heartbeat %v (the default) for all three; "+arrivalNote+"; "+
			"CPU is the whole process's per delivered message; delivered counts lines in each listener's room state after sync; "+
			"%d joins were retried while the rooms filled, and %d sides started a second time after a failed start; "+signedNote+"; %s",
			e.runsNote(), e.roomLines, roomRate, roomHeartbeat, retried, restarts, e.busyNote())
	}()
	for _, n := range e.roomSizes {
		c := comparison{
			label: fmt.Sprintf("%d nodes", n),
			lines: e.roomLines,
			startOurs: func(ctx context.Context) (live, [][2]int, error) {
				r, err := e.startRoom(ctx, n)
				if err != nil {
					return nil, nil, err
				}
				retried += r.retried
				return r, r.edges, nil
			},
			startRaw: func(ctx context.Context, edges [][2]int, signed bool) (live, error) {
				return e.startRawRoom(ctx, n, edges, signed)
			},
		}
		out, err := e.compare(ctx, c)
		if err != nil {
			return res, fmt.Errorf("%d nodes: %w", n, err)
		}
		p := sizePoint(n, out, roomLatencyTarget, roomCPUTarget)
		restarts += p.Restarts
		res.Figures = append(res.Figures, sizeFigures(fmt.Sprintf("%d nodes: ", n), p)...)
		res.Sizes = append(res.Sizes, p)
	}
	return res, nil
}

// busyNote says how the machine's busy share rules the latency verdict,
// and what the saturation point is.
func (e *env) busyNote() string {
	sat := "not searched in this mode"
	if e.sat.maxSteps > 1 {
		sat = fmt.Sprintf("searched in the last run, %d windows at most; %s", e.sat.maxSteps, satDefinition(e.sat.window))
	}
	return fmt.Sprintf("busy is the machine's busy share over the window, all cores (1 - idle/total from /proc/stat; "+
		"other processes count); the latency target is judged only where signed raw ran with the machine under %.0f%% busy, "+
		"above that delivery, CPU per message and the saturation point tell; saturation: %s", 100*BusyLimit, sat)
}

// signedNote says what the signed raw baseline is.
const signedNote = "signed raw GossipSub is raw GossipSub on the same graph whose sender signs each payload with Ed25519 as it sends it " +
	"and whose validator checks that signature before GossipSub delivers or forwards it: what the one check every room and group message needs costs by itself"

// The baselines' names in the figures.
const (
	rawBase    = "raw GossipSub"
	signedBase = "signed raw GossipSub"
)

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
	readers   eventReaders
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
// four at a time; mods change every node's configuration after the room
// nodes' defaults.
func newRoomFixture(ctx context.Context, e *env, c *cluster, n int, syncEvery time.Duration, mods ...func(*node.Config)) (*roomFixture, error) {
	host, err := c.node(ctx, append([]func(*node.Config){roomNodeConfig(syncEvery, "")}, mods...)...)
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
			nd, err := c.node(ctx, append([]func(*node.Config){roomNodeConfig(syncEvery, boot)}, mods...)...)
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
	f.readers.read(nd, func(ev node.Event) {
		if ev.Type == node.EventRoomMessage && ev.Room != nil && ev.Room.Kind == room.KindChat {
			f.arr.arrived(i, ev.Room.ID, ev.Time) // see arrivalNote
		}
	})
}

// close ends the subscriptions (the cluster closes the nodes).
func (f *roomFixture) close() { f.readers.close() }

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

// roomLive is our room of n nodes, started and settled, for a comparison:
// the host speaks, the listeners time each line.
type roomLive struct {
	c       *cluster
	f       *roomFixture
	edges   [][2]int // the room's connection graph, by node index (0: the host)
	retried int      // joins that had to be tried again
	ids     []room.MessageID
	seq     int // lines spoken, across windows
}

// startRoom starts a room of n nodes (a host and n-1 listeners that joined
// it) and lets its mesh form.
func (e *env) startRoom(ctx context.Context, n int) (*roomLive, error) {
	c := newCluster(e)
	e.step("%d nodes: starting the host and %d listeners", n, n-1)
	f, err := newRoomFixture(ctx, e, c, n, 0)
	if err != nil {
		return nil, errors.Join(err, c.close())
	}
	r := &roomLive{c: c, f: f, retried: int(f.retried.Load())}
	e.step("%d nodes: letting the mesh form (%v)", n, e.meshSettle)
	if err := settleFor(ctx, e.meshSettle); err != nil {
		return nil, errors.Join(err, r.close())
	}
	r.edges = connectionGraph(append([]*node.Node{f.host}, f.listeners...))
	return r, nil
}

func (r *roomLive) reset() {
	r.f.arr.reset()
	r.ids = r.ids[:0]
}

func (r *roomLive) send(ctx context.Context, _ int) error {
	r.seq++
	now := time.Now()
	id, err := r.f.host.RoomSay(ctx, r.f.id, fmt.Sprint("line ", r.seq))
	if err != nil {
		return err
	}
	r.f.arr.markSent(id, now)
	r.ids = append(r.ids, id)
	return nil
}

func (r *roomLive) receivers() int { return len(r.f.listeners) }

// timed counts the events: the cheap check.
func (r *roomLive) timed() int { return r.f.arr.count() }

// delivered counts the window's lines in the listeners' room states: the
// truth (a subscriber that falls behind misses events).
func (r *roomLive) delivered() (int, error) { return r.f.delivered(r.ids, r.f.listeners) }

func (r *roomLive) times() windowTimes { return r.f.arr.times() }

func (r *roomLive) close() error {
	r.f.close()
	return r.c.close()
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

// startRawRoom starts raw GossipSub with n hosts connected as the room's
// nodes were (edges), on a topic named like a room's, with payloads of a
// signed room message's size; signed, each payload also carries an Ed25519
// signature that every receiver checks (see rawGossip.signed).
func (e *env) startRawRoom(ctx context.Context, n int, edges [][2]int, signed bool) (*rawLive, error) {
	size, err := roomMessageSize("line 100")
	if err != nil {
		return nil, err
	}
	return e.startRawGossip(ctx, rawGossip{
		label: fmt.Sprintf("%d nodes", n), n: n, edges: edges, topic: node.RoomTopicPrefix + room.ID{1}.String(),
		size: size, settle: e.meshSettle, signed: signed,
	})
}

// rawGossip is a raw GossipSub side: n hosts connected by edges, on topic,
// settled for settle after they connected; host 0 publishes payloads of size
// bytes and the others time each arrival. label starts the progress lines.
type rawGossip struct {
	label  string
	n      int
	edges  [][2]int
	topic  string
	size   int
	settle time.Duration
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

// rawLive is a raw GossipSub side, started and settled.
type rawLive struct {
	g       rawGossip
	c       *cluster
	sk      *keys.PrivateKey
	members []rawMember
	wg      sync.WaitGroup // the readers: each ends when its PubSub closes
	arr     *arrivals[string]
	seq     int // payloads published, across windows: each is new to GossipSub
}

type rawMember struct {
	h     host.Host
	ps    *pubsub.PubSub
	topic *pubsub.Topic
	info  peer.AddrInfo
}

// startRawGossip starts g's hosts, connects them and lets the mesh form.
func (e *env) startRawGossip(ctx context.Context, g rawGossip) (_ *rawLive, err error) {
	r := &rawLive{g: g, c: newCluster(e), arr: newArrivals[string]()}
	defer func() {
		if err != nil {
			err = errors.Join(err, r.close())
		}
	}()
	what := "raw GossipSub"
	if g.signed {
		what = "signed raw GossipSub"
	}
	e.step("%s, %s: starting %d hosts", g.label, what, g.n)
	var pk *keys.PublicKey
	if g.signed {
		k := keys.GeneratePrivateKey()
		p := k.Public()
		r.sk, pk = &k, &p
	}
	for range g.n {
		h, err := r.c.rawHost()
		if err != nil {
			return nil, err
		}
		ps, err := pubsub.New(ctx, pubsub.Config{Host: h, Heartbeat: roomHeartbeat, Scoring: true})
		if err != nil {
			return nil, err
		}
		t, err := ps.Join(g.topic, rawValidator(pk))
		if err != nil {
			ps.Close()
			return nil, err
		}
		r.members = append(r.members, rawMember{h, ps, t, peer.AddrInfo{ID: h.ID(), Addrs: h.Addrs()}})
	}
	for _, ed := range g.edges {
		if err := r.members[ed[1]].h.Connect(ctx, r.members[ed[0]].info); err != nil {
			return nil, err
		}
	}
	// Lines are told apart by their message ID (the content hash), which
	// GossipSub computed anyway.
	for i, m := range r.members[1:] {
		r.wg.Go(func() {
			for msg := range m.topic.Messages() {
				r.arr.arrived(i, msg.ID, time.Now())
			}
		})
	}
	e.step("%s, %s: letting the mesh form (%v)", g.label, what, g.settle)
	if err := settleFor(ctx, g.settle); err != nil {
		return nil, err
	}
	return r, nil
}

func (r *rawLive) reset() { r.arr.reset() }

// send publishes the next payload. Making it is part of the send (its
// signature, as in RoomSay); its ID is hashed after the publish, off the
// clock, and arrivals that beat it wait in arr until then.
func (r *rawLive) send(ctx context.Context, _ int) error {
	r.seq++
	sent := time.Now()
	data := rawLine(r.seq, r.g.size, r.sk)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	err := r.members[0].topic.Publish(pctx, data)
	cancel()
	if err != nil {
		return err
	}
	r.arr.markSent(pubsub.DefaultMessageID(r.g.topic, data), sent)
	return nil
}

func (r *rawLive) receivers() int          { return r.g.n - 1 }
func (r *rawLive) timed() int              { return r.arr.count() }
func (r *rawLive) delivered() (int, error) { return r.arr.count(), nil }
func (r *rawLive) times() windowTimes      { return r.arr.times() }

func (r *rawLive) close() error {
	for _, m := range r.members {
		m.ps.Close()
	}
	r.wg.Wait()
	return r.c.close()
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
