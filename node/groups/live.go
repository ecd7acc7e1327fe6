package groups

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/gate"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/node/internal/topic"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

const (
	// groupPublishQueue bounds our envelopes waiting for the group's mesh.
	groupPublishQueue = 1024
	// groupPublishWait bounds how long a publish waits for the mesh; what
	// is not sent by then reaches the others through sync.
	groupPublishWait = 5 * time.Second
	// groupReadBatch bounds how many received envelopes one transaction
	// stores.
	groupReadBatch = 64
	// groupDialTarget is how many fellow members a node tries to stay
	// connected to, so that the group's mesh forms and sync finds peers.
	groupDialTarget = 3
)

// liveGroup is a joined group: its topic and the goroutines that serve it.
type liveGroup struct {
	id      group.ID
	topic   *pubsub.Topic
	ctx     context.Context // ends when the group is left or the service closes
	cancel  context.CancelFunc
	wg      sync.WaitGroup // the group's goroutines
	pub     *topic.Queue   // our stored envelopes waiting to be published
	gate    *gate.Gate     // the topic's validator, with the rosters it checks against
	syncNow chan struct{}
	receipt chan struct{}
}

func poke(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// rejoinGroups joins again, at start, the groups joined before.
func (s *Service) rejoinGroups() error {
	var gs []storage.Group
	if err := s.store.View(func(tx *storage.Txn) error {
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
		if err := s.joinGroupLive(group.ID(g.ID)); err != nil {
			return fmt.Errorf("node: group %s: %w", g.ID, err)
		}
	}
	return nil
}

// joinGroupLive subscribes to a joined group's topic and starts serving it.
func (s *Service) joinGroupLive(id group.ID) error {
	s.mu.Lock()
	_, ok := s.live[id]
	s.mu.Unlock()
	if ok {
		return nil
	}
	var secret group.Secret
	if err := s.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		secret, err = group.UnmarshalSecret(g.Secret)
		return err
	}); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(s.ctx)
	lg := &liveGroup{
		id:      id,
		ctx:     ctx,
		cancel:  cancel,
		gate:    s.newGate(id),
		syncNow: make(chan struct{}, 1),
		receipt: make(chan struct{}, 1),
	}
	if _, err := s.loadView(lg); err != nil {
		cancel()
		return err
	}
	t, err := s.ps.Join(secret.Topic(), lg.gate.Validate)
	if err != nil {
		cancel()
		return fmt.Errorf("group %s: %w", id, err)
	}
	lg.topic = t
	lg.pub = topic.NewQueue(t, publishPolicy)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, dup := s.live[id]
	if dup || s.ctx.Err() != nil {
		cancel()
		t.Close()
		if dup {
			return nil
		}
		return fmt.Errorf("%w: group %s", errs.ErrClosed, id)
	}
	s.live[id] = lg
	// Started under s.mu, so that Close, which takes s.mu after ending
	// s.ctx, finds the group and waits for them.
	s.goGroup(lg, func() { s.readGroup(lg) })
	s.goGroup(lg, func() { s.publishGroupLoop(lg) })
	// lg.ctx also ends when the service closes.
	s.goGroup(lg, func() {
		topic.Every(lg.ctx.Done(), s.cfg.SyncInterval, lg.syncNow, func() time.Duration { s.syncGroupRound(lg); return 0 })
	})
	s.goGroup(lg, func() { topic.AfterPoke(lg.ctx.Done(), lg.receipt, s.cfg.ReceiptDelay, func() { s.sendReceipt(lg) }) })
	return nil
}

// goGroup runs fn in a goroutine of the group, which stopGroupLive and
// Close wait for.
func (s *Service) goGroup(lg *liveGroup, fn func()) { topic.Go(&lg.wg, &s.wg, fn) }

// stopGroupLive leaves a group's topic and waits for the group's
// goroutines; the store keeps what it had. It must not run on one of them.
func (s *Service) stopGroupLive(id group.ID) {
	s.mu.Lock()
	lg, ok := s.live[id]
	delete(s.live, id)
	s.mu.Unlock()
	if !ok {
		return
	}
	lg.cancel()
	if err := lg.topic.Close(); err != nil {
		s.log.Debug("group: topic not closed cleanly", "group", id, "err", err)
	}
	lg.wg.Wait()
}

// newGate makes the topic validator of group id.
func (s *Service) newGate(id group.ID) *gate.Gate {
	stored := func(hash [32]byte) bool {
		var dup bool
		_ = s.store.View(func(tx *storage.Txn) error {
			dup, _ = tx.HasGroupEnvelope(sid(id), hash)
			return nil
		})
		return dup
	}
	return gate.New(id, s.selfID(), stored, s.log)
}

// loadView reads the group's rosters into its gate, and returns the
// envelopes kept aside whose epochs they now reach.
func (s *Service) loadView(lg *liveGroup) ([][]byte, error) {
	var ready [][]byte
	err := s.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, lg.id)
		if err != nil {
			return err
		}
		chain, err := rosterchain.Load(tx, g)
		if err != nil {
			return err
		}
		ready = lg.gate.SetView(gate.ViewOf(chain))
		return nil
	})
	return ready, err
}

// refreshGroup reloads a live group's rosters after they changed and hands
// on the envelopes that waited for them.
func (s *Service) refreshGroup(id group.ID) {
	lg, ok := s.get(id)
	if !ok {
		return
	}
	ready, err := s.loadView(lg)
	if err != nil {
		s.log.Warn("group: rosters not reloaded", "group", id, "err", err)
		return
	}
	if len(ready) > 0 {
		s.acceptGroupData(lg, ready, true) // kept aside: checked against the rosters now held
	}
}

// keysArrived opens what waited for the new keys, tells subscribers, and
// asks a fellow member for what this node missed of those epochs.
func (s *Service) keysArrived(id group.ID, epochs []uint64) {
	s.refreshGroup(id)
	for _, e := range epochs {
		if err := s.openPending(id, e); err != nil {
			s.log.Warn("group: waiting envelopes not opened", "group", id, "epoch", e, "err", err)
		}
		s.bus.Publish(event.Event{Type: event.GroupEpoch, Group: &event.Group{Group: id, Epoch: e}})
	}
	if len(epochs) > 0 {
		s.syncGroupSoon(id)
	}
}

// syncGroupSoon asks the group's sync loop to run now.
func (s *Service) syncGroupSoon(id group.ID) {
	if lg, ok := s.get(id); ok {
		poke(lg.syncNow)
	}
}

// readGroup stores and opens the group's envelopes until the topic closes,
// a batch of those already waiting per transaction.
func (s *Service) readGroup(lg *liveGroup) {
	topic.ReadBatches(lg.topic.Messages(), groupReadBatch, remoteData, func(batch [][]byte) { s.acceptGroupData(lg, batch, false) })
}

// remoteData is the envelope of a message from the topic, unless it is our
// own (stored before it was published).
func remoteData(m pubsub.Message) ([]byte, bool) { return m.Data, !m.Local }

// acceptGroupData decodes envelopes and stores and opens them. With check,
// each is first checked against the roster of its epoch (the validator did
// that for what came through GossipSub).
func (s *Service) acceptGroupData(lg *liveGroup, datas [][]byte, check bool) {
	v := lg.gate.View()
	var in []incoming
	for _, d := range datas {
		e, err := group.UnmarshalEnvelope(d)
		if err != nil || e.Group != lg.id {
			continue
		}
		if check {
			r := v.Rosters[e.Epoch]
			if r == nil || r.CheckSender(e) != nil {
				continue
			}
		}
		in = append(in, incoming{e, d})
	}
	if err := s.storeEnvelopes(lg.id, in); err != nil {
		s.log.Warn("group: envelopes not stored", "group", lg.id, "err", err)
	}
}

// publishPolicy is how a group's queue publishes our stored envelopes, in
// order, each waiting up to groupPublishWait for the mesh; leaving drops
// what is queued (sync carries it) and ends a publish under way.
var publishPolicy = topic.Policy{Size: groupPublishQueue, Wait: groupPublishWait, LeaveAborts: true}

// publishGroupLoop publishes our stored envelopes until the group is left.
func (s *Service) publishGroupLoop(lg *liveGroup) {
	lg.pub.Run(s.ctx, lg.ctx, func(err error) {
		s.log.Debug("group publish not sent; sync will carry it", "group", lg.id, "err", err)
	})
}

// syncGroupRound keeps the node connected to some fellow members and pulls
// what it missed from one of them; the group's loop runs it at once, then
// every GroupSyncInterval and whenever asked (a new key, a roster gap).
func (s *Service) syncGroupRound(lg *liveGroup) {
	s.dialMembers(lg)
	if err := s.syncGroupOnce(lg); err != nil {
		s.log.Debug("group: sync failed", "group", lg.id, "err", err)
	}
}

// dialMembers connects to a few members of the newest roster when fewer
// than groupDialTarget are connected: peers found through the peerstore or
// the DHT, which names no group.
func (s *Service) dialMembers(lg *liveGroup) {
	v := lg.gate.View()
	h := s.net.Host()
	var todo []peer.ID
	connected := 0
	for _, m := range v.Rosters[v.Latest].Members {
		p := m.Key.PeerID()
		if p == s.selfID() {
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
			ctx, cancel := context.WithTimeout(lg.ctx, 5*time.Second)
			defer cancel()
			if err := s.net.Connect(ctx, p); err != nil {
				s.log.Debug("group: member not reached", "group", lg.id, "member", p, "err", err)
			}
		}()
	}
	wg.Wait()
}

// sendReceipt tells the group how far this node has received and read; the
// group's receipt loop runs it GroupReceiptDelay after messages arrived
// (reading publishes a receipt at once, without it).
func (s *Service) sendReceipt(lg *liveGroup) {
	if err := s.publishReceipt(lg); err != nil && !errors.Is(err, errs.ErrKeyPending) {
		s.log.Debug("group: receipt not sent", "group", lg.id, "err", err)
	}
}
