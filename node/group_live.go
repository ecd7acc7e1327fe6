package node

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

const (
	// groupPublishQueue bounds our envelopes waiting for the group's mesh.
	groupPublishQueue = 1024
	// groupPublishWait bounds how long a publish waits for the mesh; what
	// is not sent by then reaches the others through sync.
	groupPublishWait = 5 * time.Second
	// groupRate and groupBurst bound each member's envelopes that a node
	// forwards; beyond them the validator ignores (sync repairs honest
	// bursts).
	groupRate  = rate.Limit(100)
	groupBurst = 500
	// groupReadBatch bounds how many received envelopes one transaction
	// stores.
	groupReadBatch = 64
	// maxGroupStash bounds the envelopes of epochs not known yet that a
	// node keeps in memory until their roster arrives.
	maxGroupStash = 4096
	// maxEpochAhead bounds how far ahead of the newest known epoch a
	// stashed envelope may be.
	maxEpochAhead = 64
	// groupDialTarget is how many fellow members a node tries to stay
	// connected to, so that the group's mesh forms and sync finds peers.
	groupDialTarget = 3
)

// groupView is what the topic validator needs, swapped whole when the
// rosters change: the verified rosters from the base epoch on.
type groupView struct {
	base, latest uint64
	rosters      map[uint64]*group.Roster
}

// liveGroup is a joined group: its topic and the goroutines that serve it.
type liveGroup struct {
	id      group.ID
	topic   *pubsub.Topic
	done    chan struct{} // closed when the group is left
	outq    chan []byte   // our stored envelopes waiting to be published
	view    atomic.Pointer[groupView]
	limiter *pubsub.Limiter
	syncNow chan struct{}
	receipt chan struct{}
	// rejected counts envelopes the validator rejected (forged, from
	// non-members, of another group).
	rejected atomic.Int64

	stashMu sync.Mutex
	stash   map[uint64][][]byte // epoch -> envelopes waiting for its roster
	stashed int
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// rejoinGroups joins again, at start, the groups joined before.
func (n *Node) rejoinGroups() error {
	var gs []storage.Group
	if err := n.store.View(func(tx *storage.Txn) error {
		var err error
		gs, err = tx.Groups()
		return err
	}); err != nil {
		return fmt.Errorf("node: groups: %w", err)
	}
	for _, g := range gs {
		if g.State != storage.GroupJoined {
			continue
		}
		if err := n.joinGroupLive(group.ID(g.ID)); err != nil {
			return fmt.Errorf("node: group %s: %w", g.ID, err)
		}
	}
	return nil
}

// joinGroupLive subscribes to a joined group's topic and starts serving it.
func (n *Node) joinGroupLive(id group.ID) error {
	n.groups.mu.Lock()
	_, ok := n.groups.live[id]
	n.groups.mu.Unlock()
	if ok {
		return nil
	}
	var secret group.Secret
	if err := n.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		secret, err = group.UnmarshalSecret(g.Secret)
		return err
	}); err != nil {
		return err
	}
	lg := &liveGroup{
		id:      id,
		done:    make(chan struct{}),
		outq:    make(chan []byte, groupPublishQueue),
		limiter: pubsub.NewLimiter(groupRate, groupBurst, group.MaxMembers),
		syncNow: make(chan struct{}, 1),
		receipt: make(chan struct{}, 1),
		stash:   map[uint64][][]byte{},
	}
	if err := n.loadView(lg); err != nil {
		return err
	}
	topic, err := n.ps.Join(secret.Topic(), n.groupValidator(lg))
	if err != nil {
		return fmt.Errorf("group %s: %w", id, err)
	}
	lg.topic = topic
	n.groups.mu.Lock()
	if _, dup := n.groups.live[id]; dup {
		n.groups.mu.Unlock()
		topic.Close()
		return nil
	}
	n.groups.live[id] = lg
	n.groups.mu.Unlock()
	n.goGroup(lg, func() { n.readGroup(lg) })
	n.goGroup(lg, func() { n.publishGroupLoop(lg) })
	n.goGroup(lg, func() { n.syncGroupLoop(lg) })
	n.goGroup(lg, func() { n.receiptLoop(lg) })
	return nil
}

// goGroup runs fn in a goroutine owned by the node.
func (n *Node) goGroup(_ *liveGroup, fn func()) {
	n.life.Go(func() {
		fn()
	})
}

// stopGroupLive leaves a group's topic; the store keeps what it had.
func (n *Node) stopGroupLive(id group.ID) {
	n.groups.mu.Lock()
	lg, ok := n.groups.live[id]
	delete(n.groups.live, id)
	n.groups.mu.Unlock()
	if !ok {
		return
	}
	close(lg.done)
	if err := lg.topic.Close(); err != nil {
		n.log.Debug("group: topic not closed cleanly", "group", id, "err", err)
	}
}

// loadView reads the group's rosters into a fresh validator view.
func (n *Node) loadView(lg *liveGroup) error {
	return n.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, lg.id)
		if err != nil {
			return err
		}
		chain, err := loadChain(tx, g)
		if err != nil {
			return err
		}
		v := &groupView{base: chain.base, latest: chain.latest().Epoch, rosters: make(map[uint64]*group.Roster, len(chain.rosters))}
		for _, r := range chain.rosters {
			v.rosters[r.Epoch] = r
		}
		lg.view.Store(v)
		return nil
	})
}

// refreshGroup reloads a live group's rosters after they changed and hands
// on the envelopes that waited for them.
func (n *Node) refreshGroup(id group.ID) {
	lg, ok := n.groups.get(id)
	if !ok {
		return
	}
	if err := n.loadView(lg); err != nil {
		n.log.Warn("group: rosters not reloaded", "group", id, "err", err)
		return
	}
	v := lg.view.Load()
	lg.stashMu.Lock()
	var ready [][]byte
	for epoch, datas := range lg.stash {
		if epoch <= v.latest {
			ready = append(ready, datas...)
			lg.stashed -= len(datas)
			delete(lg.stash, epoch)
		}
	}
	lg.stashMu.Unlock()
	if len(ready) > 0 {
		n.acceptVerified(lg, ready)
	}
}

// keysArrived opens what waited for the new keys, tells subscribers, and
// asks a fellow member for what this node missed of those epochs.
func (n *Node) keysArrived(id group.ID, epochs []uint64) {
	n.refreshGroup(id)
	for _, e := range epochs {
		if err := n.openPending(id, e); err != nil {
			n.log.Warn("group: waiting envelopes not opened", "group", id, "epoch", e, "err", err)
		}
		n.bus.Publish(Event{Type: EventGroupEpoch, Group: &GroupEvent{Group: id, Epoch: e}})
	}
	if len(epochs) > 0 {
		n.syncGroupSoon(id)
	}
}

// syncGroupSoon asks the group's sync loop to run now.
func (n *Node) syncGroupSoon(id group.ID) {
	if lg, ok := n.groups.get(id); ok {
		poke(lg.syncNow)
	}
}

// groupValidator checks an envelope before GossipSub delivers or forwards
// it: form, group, the sender's rate, membership at the envelope's epoch
// and the signature. Forged envelopes, non-members and other groups'
// envelopes are Reject (scored); what depends on this node's state is
// Ignore: an epoch it does not know yet (kept aside until its roster
// arrives), a duplicate of a stored envelope, a sender over its rate.
func (n *Node) groupValidator(lg *liveGroup) pubsub.Validator {
	self := n.ID()
	return func(_ context.Context, from peer.ID, data []byte) pubsub.Result {
		e, err := group.UnmarshalEnvelope(data)
		if err != nil {
			lg.rejected.Add(1)
			return pubsub.Reject
		}
		if e.Group != lg.id {
			n.log.Debug("group: envelope of another group", "from", from)
			lg.rejected.Add(1)
			return pubsub.Reject
		}
		if from != self && !lg.limiter.Allow(string(e.Sender[:])) {
			return pubsub.Ignore
		}
		v := lg.view.Load()
		r := v.rosters[e.Epoch]
		if r == nil {
			if e.Epoch > v.latest && e.Epoch-v.latest <= maxEpochAhead && e.VerifySignature() == nil {
				lg.keep(e.Epoch, data)
			}
			return pubsub.Ignore
		}
		if err := r.CheckSender(e); err != nil {
			// A relay that forwards a non-member's envelope may hold the
			// other side of a roster fork: only its author is punished.
			if errors.Is(err, group.ErrNotMember) && from != e.Sender.PeerID() {
				return pubsub.Ignore
			}
			n.log.Debug("group: envelope rejected", "from", from, "err", err)
			lg.rejected.Add(1)
			return pubsub.Reject
		}
		if from != self {
			var dup bool
			_ = n.store.View(func(tx *storage.Txn) error {
				dup, _ = tx.HasGroupEnvelope(sid(lg.id), e.Hash())
				return nil
			})
			if dup {
				return pubsub.Ignore
			}
		}
		return pubsub.Accept
	}
}

// keep stashes an envelope of an epoch whose roster has not arrived.
func (lg *liveGroup) keep(epoch uint64, data []byte) {
	lg.stashMu.Lock()
	defer lg.stashMu.Unlock()
	if lg.stashed >= maxGroupStash {
		return // sync brings it later
	}
	lg.stash[epoch] = append(lg.stash[epoch], data)
	lg.stashed++
}

// readGroup stores and opens the group's envelopes until the topic closes,
// a batch of those already waiting per transaction.
func (n *Node) readGroup(lg *liveGroup) {
	msgs := lg.topic.Messages()
	for msg := range msgs {
		var batch [][]byte
		if !msg.Local {
			batch = append(batch, msg.Data)
		}
	drain:
		for len(batch) < groupReadBatch {
			select {
			case m, ok := <-msgs:
				if !ok {
					break drain
				}
				if !m.Local {
					batch = append(batch, m.Data)
				}
			default:
				break drain
			}
		}
		if len(batch) > 0 {
			n.acceptGroupData(lg, batch, false)
		}
	}
}

// acceptVerified takes envelopes that were kept aside: they are checked
// against the rosters now held before they are stored.
func (n *Node) acceptVerified(lg *liveGroup, datas [][]byte) {
	n.acceptGroupData(lg, datas, true)
}

// acceptGroupData decodes envelopes and stores and opens them. With check,
// each is first checked against the roster of its epoch (the validator did
// that for what came through GossipSub).
func (n *Node) acceptGroupData(lg *liveGroup, datas [][]byte, check bool) {
	v := lg.view.Load()
	var in []incoming
	for _, d := range datas {
		e, err := group.UnmarshalEnvelope(d)
		if err != nil || e.Group != lg.id {
			continue
		}
		if check {
			r := v.rosters[e.Epoch]
			if r == nil || r.CheckSender(e) != nil {
				continue
			}
		}
		in = append(in, incoming{e, d})
	}
	if err := n.storeEnvelopes(lg.id, in); err != nil {
		n.log.Warn("group: envelopes not stored", "group", lg.id, "err", err)
	}
}

// publishGroupLoop publishes our stored envelopes in order, each waiting up
// to groupPublishWait for the mesh.
func (n *Node) publishGroupLoop(lg *liveGroup) {
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-lg.done:
			return
		case data := <-lg.outq:
			ctx, cancel := context.WithTimeout(n.ctx, groupPublishWait)
			err := lg.topic.Publish(ctx, data)
			cancel()
			if err != nil {
				n.log.Debug("group publish not sent; sync will carry it", "group", lg.id, "err", err)
			}
		}
	}
}

// enqueue hands a stored envelope to the publish loop.
func (lg *liveGroup) enqueue(data []byte) bool {
	select {
	case lg.outq <- data:
		return true
	default:
		return false // stored: sync carries it
	}
}

// syncGroupLoop keeps the node connected to some fellow members and pulls
// what it missed from one of them: at once, then every GroupSyncInterval
// and whenever asked (a new key, a roster gap).
func (n *Node) syncGroupLoop(lg *liveGroup) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-lg.done:
			return
		case <-t.C:
		case <-lg.syncNow:
		}
		n.dialMembers(lg)
		if err := n.syncGroupOnce(lg); err != nil {
			n.log.Debug("group: sync failed", "group", lg.id, "err", err)
		}
		if !t.Stop() {
			select {
			case <-t.C:
			default:
			}
		}
		t.Reset(n.cfg.GroupSyncInterval)
	}
}

// dialMembers connects to a few members of the newest roster when fewer
// than groupDialTarget are connected: peers found through the peerstore or
// the DHT, which names no group.
func (n *Node) dialMembers(lg *liveGroup) {
	v := lg.view.Load()
	h := n.net.Host()
	var todo []peer.ID
	connected := 0
	for _, m := range v.rosters[v.latest].Members {
		p := m.Key.PeerID()
		if p == n.ID() {
			continue
		}
		if h.Network().Connectedness(p) == network.Connected {
			connected++
		} else {
			todo = append(todo, p)
		}
	}
	want := min(groupDialTarget, connected+len(todo)) - connected
	if want <= 0 {
		return
	}
	rand.Shuffle(len(todo), func(i, j int) { todo[i], todo[j] = todo[j], todo[i] })
	var wg sync.WaitGroup
	for _, p := range todo[:want] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(n.ctx, 5*time.Second)
			defer cancel()
			if err := n.net.Connect(ctx, p); err != nil {
				n.log.Debug("group: member not reached", "group", lg.id, "member", p, "err", err)
			}
		}()
	}
	wg.Wait()
}

// receiptLoop tells the group how far this node has received and read, a
// while after messages arrived or at once when the user read them.
func (n *Node) receiptLoop(lg *liveGroup) {
	for {
		select {
		case <-n.ctx.Done():
			return
		case <-lg.done:
			return
		case <-lg.receipt:
		}
		select {
		case <-n.ctx.Done():
			return
		case <-lg.done:
			return
		case <-time.After(n.cfg.GroupReceiptDelay):
		}
		if err := n.publishReceipt(lg); err != nil && !errors.Is(err, ErrKeyPending) {
			n.log.Debug("group: receipt not sent", "group", lg.id, "err", err)
		}
	}
}
