package bench

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node"
)

const (
	// awayMembers is how many members besides the owner the group of the
	// member-away scenario has; member 0 goes away.
	awayMembers = 4
	// groupSyncEvery is how often a group member asks another for what it
	// missed, in the member-away scenario (the node's default is 10 s).
	groupSyncEvery = time.Second
	// rekeyTarget is the most a removal may take until every remaining
	// member holds the new epoch's key.
	rekeyTarget = 2000 // ms
)

// groupFixture is a private group: its owner and members, all joined.
type groupFixture struct {
	c       *cluster
	owner   *node.Node
	id      group.ID
	members []*node.Node // without the owner
	arr     *arrivals[[32]byte]
	readers eventReaders

	mu      sync.Mutex
	epochAt map[int]time.Time // member index -> when it got the key of epoch wantEpoch
	want    uint64            // the epoch whose arrival is timed (0: none)
}

// groupNodeConfig makes group nodes: no fsync, the rooms' heartbeat, group
// sync every interval (0: the node's default).
func groupNodeConfig(syncEvery time.Duration, boot string) func(*node.Config) {
	return func(cfg *node.Config) {
		cfg.NoSync = true
		cfg.PubSubHeartbeat = roomHeartbeat
		cfg.GroupSyncInterval = syncEvery
		if boot != "" {
			cfg.Bootstrap = []string{boot}
		}
	}
}

// newGroupFixture starts an owner and n-1 members (four at a time), creates
// the group, invites them all and has each accept.
func newGroupFixture(ctx context.Context, e *env, c *cluster, n int, syncEvery time.Duration) (*groupFixture, error) {
	owner, err := c.node(ctx, groupNodeConfig(syncEvery, ""))
	if err != nil {
		return nil, err
	}
	info, err := owner.CreateGroup(ctx, "bench")
	if err != nil {
		return nil, err
	}
	f := &groupFixture{c: c, owner: owner, id: info.ID, arr: newArrivals[[32]byte](), members: make([]*node.Node, n-1), epochAt: map[int]time.Time{}}
	boot := owner.Addrs()[0].String()
	sem := make(chan struct{}, 4)
	errs := make([]error, n-1)
	var wg sync.WaitGroup
	for i := range n - 1 {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			nd, err := c.node(ctx, groupNodeConfig(syncEvery, boot))
			if err != nil {
				errs[i] = err
				return
			}
			f.members[i] = nd
			f.listen(i, nd)
		})
		if (i+1)%10 == 0 {
			e.step("%d of %d members started", i+1, n-1)
		}
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		f.close()
		return nil, err
	}
	peers := make([]peer.ID, len(f.members))
	for i, m := range f.members {
		peers[i] = m.ID()
	}
	e.step("inviting %d members", len(peers))
	if err := owner.InviteToGroup(ctx, f.id, peers...); err != nil {
		f.close()
		return nil, err
	}
	err = waitFor(ctx, "every invitation and its key", e.deliveryTimeout, 20*time.Millisecond, func() (bool, error) {
		for _, m := range f.members {
			if g, err := m.Group(f.id); err != nil || g.KeyWaited {
				return false, nil
			}
		}
		return true, nil
	})
	if err != nil {
		f.close()
		return nil, err
	}
	for i, m := range f.members {
		if _, err := m.AcceptGroupInvite(ctx, f.id); err != nil {
			f.close()
			return nil, fmt.Errorf("member %d accepts: %w", i, err)
		}
	}
	return f, nil
}

// listen records group text arrivals (and epoch keys) at member i.
func (f *groupFixture) listen(i int, nd *node.Node) {
	f.readers.read(nd, func(ev node.Event) {
		switch {
		case ev.Type == node.EventGroupMessage && ev.Group != nil && ev.Group.Kind == node.KindText:
			f.arr.arrived(i, ev.Group.Message, ev.Time) // see arrivalNote
		case ev.Type == node.EventGroupEpoch && ev.Group != nil:
			f.epochArrived(i, ev.Group.Epoch, time.Now())
		}
	})
}

func (f *groupFixture) epochArrived(i int, epoch uint64, at time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.want != 0 && epoch >= f.want {
		if _, ok := f.epochAt[i]; !ok {
			f.epochAt[i] = at
		}
	}
}

// close ends the subscriptions (the cluster closes the nodes).
func (f *groupFixture) close() { f.readers.close() }

// send sends lines at roomRate, line i from from(i); between lines it calls
// each(i) (may be nil). It returns the IDs sent and who sent each.
func (f *groupFixture) send(ctx context.Context, lines int, from func(i int) *node.Node, each func(i int) error) ([][32]byte, []*node.Node, error) {
	tick := time.NewTicker(time.Second / roomRate)
	defer tick.Stop()
	ids := make([][32]byte, 0, lines)
	senders := make([]*node.Node, 0, lines)
	for i := range lines {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
		nd := from(i)
		now := time.Now()
		m, err := nd.GroupSend(ctx, f.id, node.GroupOutgoing{Body: fmt.Sprint("line ", i)})
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", i, err)
		}
		f.arr.markSent(m.ID, now)
		ids = append(ids, m.ID)
		senders = append(senders, nd)
		if each != nil {
			if err := each(i); err != nil {
				return nil, nil, err
			}
		}
	}
	return ids, senders, nil
}

// delivered counts the (line, member) pairs stored at the members, leaving
// out each line's own sender.
func (f *groupFixture) delivered(ids [][32]byte, senders []*node.Node, members []*node.Node) (int, error) {
	total := 0
	for _, nd := range members {
		msgs, err := nd.GroupMessages(f.id, 2*len(ids)+10, time.Time{})
		if err != nil {
			return 0, err
		}
		have := make(map[[32]byte]bool, len(msgs))
		for _, m := range msgs {
			have[m.ID] = true
		}
		for i, id := range ids {
			if senders[i] != nd && have[id] {
				total++
			}
		}
	}
	return total, nil
}

// runGroups measures a private group of groupSize members: the owner sends
// lines at roomRate and every other member times each arrival (stored and
// decrypted), beside signed raw and raw GossipSub on the group's own
// connection graph with payloads of a sealed group message's size, e.runs
// rounds of the three (compare), with the saturation search in the last.
// After each of our windows the owner removes a member and the scenario
// times until every remaining member holds the new epoch's key.
func runGroups(ctx context.Context, e *env) (res ScenarioResult, err error) {
	n := e.groupSize
	size, err := node.GroupMessageSize("line 100")
	if err != nil {
		return res, err
	}
	_, secret := group.NewGroup()
	var rekeys []float64
	c := comparison{
		label: fmt.Sprintf("%d members", n),
		lines: e.groupLines,
		startOurs: func(ctx context.Context) (live, [][2]int, error) {
			g, err := e.startGroup(ctx, n)
			if err != nil {
				return nil, nil, err
			}
			return g, g.edges, nil
		},
		startRaw: func(ctx context.Context, edges [][2]int, signed bool) (live, error) {
			return e.startRawGossip(ctx, rawGossip{label: fmt.Sprintf("%d members", n), n: n, edges: edges, topic: secret.Topic(),
				size: size, settle: e.meshSettle, signed: signed})
		},
		afterOurs: func(ctx context.Context, s live) error {
			e.step("%d members: removing one, timing the new epoch", n)
			d, err := s.(*groupLive).f.removeOne(ctx, e)
			rekeys = append(rekeys, ms(d))
			return err
		},
	}
	out, err := e.compare(ctx, c)
	if err != nil {
		return res, err
	}
	p := sizePoint(n, out, groupLatencyTarget, groupCPUTarget)
	res.Sizes = []SizePoint{p}
	res.Figures = sizeFigures(fmt.Sprintf("%d members: ", n), p)
	rekey := fig("new epoch at every member after a removal", "ms", median(rekeys), atMost(rekeyTarget))
	if len(rekeys) > 1 {
		r := spreadOf(rekeys)
		rekey.Range = rangeOf(r)
	}
	res.Figures = append(res.Figures, rekey)
	res.Note = fmt.Sprintf("all nodes in one process; %s; the owner sends %d lines at %d a second a run to %d members; payload %d bytes (a sealed group text) for all three; "+
		"GossipSub heartbeat %v for all three; nodes skip fsync; "+arrivalNote+"; CPU is the whole process's per delivered message; delivered counts lines in each member's store; "+
		"a send rate under %d a second means GroupSend could not keep up on this machine; the new epoch is timed from RemoveGroupMember until the last of the %d remaining members holds its key, after each run's window; "+
		signedNote+"; %s",
		e.runsNote(), e.groupLines, roomRate, n-1, size, roomHeartbeat, roomRate, n-2, e.busyNote())
	return res, nil
}

// groupLive is our group of n members, started and settled, for a
// comparison: the owner sends, the members time each line.
type groupLive struct {
	c       *cluster
	f       *groupFixture
	edges   [][2]int // the group's connection graph, by node index (0: the owner)
	ids     [][32]byte
	senders []*node.Node
	seq     int // lines sent, across windows
}

// startGroup starts a group of n members (the owner included), all joined,
// and lets its mesh form.
func (e *env) startGroup(ctx context.Context, n int) (*groupLive, error) {
	c := newCluster(e)
	e.step("%d members: starting the owner and %d members", n, n-1)
	f, err := newGroupFixture(ctx, e, c, n, 0)
	if err != nil {
		return nil, errors.Join(err, c.close())
	}
	g := &groupLive{c: c, f: f}
	e.step("%d members: letting the mesh form (%v)", n, e.meshSettle)
	if err := settleFor(ctx, e.meshSettle); err != nil {
		return nil, errors.Join(err, g.close())
	}
	g.edges = connectionGraph(append([]*node.Node{f.owner}, f.members...))
	return g, nil
}

func (g *groupLive) reset() {
	g.f.arr.reset()
	g.ids, g.senders = g.ids[:0], g.senders[:0]
}

func (g *groupLive) send(ctx context.Context, _ int) error {
	g.seq++
	now := time.Now()
	m, err := g.f.owner.GroupSend(ctx, g.f.id, node.GroupOutgoing{Body: fmt.Sprint("line ", g.seq)})
	if err != nil {
		return err
	}
	g.f.arr.markSent(m.ID, now)
	g.ids = append(g.ids, m.ID)
	g.senders = append(g.senders, g.f.owner)
	return nil
}

func (g *groupLive) receivers() int { return len(g.f.members) }
func (g *groupLive) timed() int     { return g.f.arr.count() }

// delivered counts the window's lines in the members' stores: the truth.
func (g *groupLive) delivered() (int, error) { return g.f.delivered(g.ids, g.senders, g.f.members) }

func (g *groupLive) times() windowTimes { return g.f.arr.times() }

func (g *groupLive) close() error {
	g.f.close()
	return g.c.close()
}

// removeOne removes the last member and returns how long until every
// remaining member holds the new epoch's key. The events time it; a
// member's store is asked now and then in case its event was missed.
func (f *groupFixture) removeOne(ctx context.Context, e *env) (time.Duration, error) {
	info, err := f.owner.Group(f.id)
	if err != nil {
		return 0, err
	}
	removed := len(f.members) - 1
	f.mu.Lock()
	f.want = info.Epoch + 1
	f.mu.Unlock()
	start := time.Now()
	if err := f.owner.RemoveGroupMember(ctx, f.id, f.members[removed].ID()); err != nil {
		return 0, err
	}
	polls := 0
	err = waitFor(ctx, "the new epoch at every member", e.deliveryTimeout, 5*time.Millisecond, func() (bool, error) {
		polls++
		for i, m := range f.members[:removed] {
			f.mu.Lock()
			_, ok := f.epochAt[i]
			f.mu.Unlock()
			if ok {
				continue
			}
			if polls%20 != 0 {
				return false, nil
			}
			g, err := m.Group(f.id)
			if err != nil {
				return false, err
			}
			if g.Epoch < f.want || g.KeyWaited {
				return false, nil
			}
			f.epochArrived(i, f.want, time.Now())
		}
		return true, nil
	})
	if err != nil {
		return 0, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var last time.Time
	for _, at := range f.epochAt {
		if at.After(last) {
			last = at
		}
	}
	return last.Sub(start), nil
}

// runGroupAway: a group of the owner and awayMembers members; the owner and
// the members other than member 0 take turns sending awayLines lines at
// roomRate. After a third of them member 0 goes away (its node closes) and
// after two thirds it comes back from its home. Group sync must bring it
// every line it missed: every member ends with every line from the others,
// once.
func runGroupAway(ctx context.Context, e *env) (res ScenarioResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()
	e.step("starting a group of %d", awayMembers+1)
	f, err := newGroupFixture(ctx, e, c, awayMembers+1, groupSyncEvery)
	if err != nil {
		return res, err
	}
	defer f.close()
	if err := sleep(ctx, e.groupSettle); err != nil {
		return res, err
	}
	lines := e.awayLines
	cutAt, backAt := lines/3, 2*lines/3
	senders := append([]*node.Node{f.owner}, f.members[1:]...)
	var (
		missed int
		back   time.Time
		repair repairTimer
	)
	e.step("%d lines at %d/s from %d senders; member 0 away from line %d to line %d", lines, roomRate, len(senders), cutAt, backAt)
	ids, from, err := f.send(ctx, lines, func(i int) *node.Node { return senders[i%len(senders)] }, func(i int) error {
		switch i {
		case cutAt:
			e.step("line %d: member 0 away", i)
			return c.stop(f.members[0])
		case backAt:
			missed = backAt - cutAt
			e.step("line %d: member 0 back", i)
			cfg := c.configOf(f.members[0])
			back = time.Now()
			nd, err := c.start(ctx, cfg)
			if err != nil {
				return err
			}
			f.members[0] = nd
			f.listen(0, nd)
			// Time the repair in the background: until it holds every
			// line sent before it came back.
			before := f.sentSoFar()
			repair.start(ctx, e, back, func() (bool, error) {
				n, err := f.delivered(before, make([]*node.Node, len(before)), []*node.Node{nd})
				return n == len(before), err
			})
		}
		return nil
	})
	repairTime, repairErr := repair.wait()
	if err != nil {
		return res, err
	}
	if repairErr != nil {
		return res, repairErr
	}
	e.step("waiting until every member holds every line")
	everyone := append([]*node.Node{f.owner}, f.members...)
	want := len(ids) * (len(everyone) - 1)
	got := 0
	werr := waitFor(ctx, "every line at every member", e.deliveryTimeout, 50*time.Millisecond, func() (bool, error) {
		var err error
		got, err = f.delivered(ids, from, everyone)
		return got == want, err
	})
	if werr != nil && !errors.Is(werr, ErrTimeout) {
		return res, werr
	}
	faults := Faults{Sent: want, Delivered: got, Lost: want - got, Duplicated: f.arr.duplicates()}
	res.Faults = &faults
	res.Figures = append(faultFigures(faults),
		fig("lines sent while member 0 was away", "msgs", float64(missed), nil),
		fig("back to gap repaired", "s", repairTime.Seconds(), nil),
	)
	res.Note = fmt.Sprintf("sent counts (line, member) pairs without the line's sender: %d lines, %d members; the member away closes its node and comes back "+
		"from its home; group sync every %v; duplicates counted as a line announced twice at a member", len(ids), len(everyone), groupSyncEvery)
	return res, nil
}

// sentSoFar returns the IDs of the lines sent so far.
func (f *groupFixture) sentSoFar() [][32]byte {
	f.arr.mu.Lock()
	defer f.arr.mu.Unlock()
	out := make([][32]byte, 0, len(f.arr.sent))
	for id := range f.arr.sent {
		out = append(out, id)
	}
	return out
}
