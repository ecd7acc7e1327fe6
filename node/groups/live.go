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

// liveGroup is a joined group: its epochs' topics and the goroutines that
// serve them.
type liveGroup struct {
	id      group.ID
	ctx     context.Context // ends when the group is left or the service closes
	cancel  context.CancelFunc
	wg      sync.WaitGroup       // the group's goroutines
	pub     *topic.Queue[framed] // our stored envelopes waiting to be published
	gate    *gate.Gate           // the topics' validator, with the rosters it checks against
	syncNow chan struct{}
	receipt chan struct{}
	retopic chan struct{} // the epochs' topics need another look
	// announce: our name may not have been told in the newest epoch
	announce chan struct{}

	mu      sync.Mutex
	topics  map[uint64]*epochTopic // joined epoch topics
	current uint64                 // the epoch we publish in (its topic, if joined)
}

// epochTopic is the topic of one epoch of a joined group: the newest epoch
// whose key this node holds, or an older one in its grace window.
type epochTopic struct {
	key group.GroupKey
	t   *pubsub.Topic
	end time.Time // zero while current; when it closes, once a newer epoch began
}

// framed is one of our envelopes as it goes on its epoch's topic.
type framed struct {
	epoch uint64
	data  []byte
}

// errEpochLeft means a queued envelope's epoch topic was left before it
// went out (sync carries it).
var errEpochLeft = errors.New("the epoch's topic was left")

// Publish is how the publish queue sends one of our frames: on the topic
// of its epoch.
func (lg *liveGroup) Publish(ctx context.Context, f framed) error {
	lg.mu.Lock()
	et := lg.topics[f.epoch]
	lg.mu.Unlock()
	if et == nil {
		return fmt.Errorf("epoch %d: %w", f.epoch, errEpochLeft)
	}
	return et.t.Publish(ctx, f.data)
}

// currentTopic is the topic we publish on now, if joined.
func (lg *liveGroup) currentTopic() *pubsub.Topic {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	if et := lg.topics[lg.current]; et != nil {
		return et.t
	}
	return nil
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

// joinGroupLive joins a joined group's topics and starts serving it.
func (s *Service) joinGroupLive(id group.ID) error {
	s.mu.Lock()
	_, ok := s.live[id]
	s.mu.Unlock()
	if ok {
		return nil
	}
	ctx, cancel := context.WithCancel(s.ctx)
	lg := &liveGroup{
		id:      id,
		ctx:     ctx,
		cancel:  cancel,
		gate:    s.newGate(id),
		syncNow: make(chan struct{}, 1),
		receipt: make(chan struct{}, 1),
		retopic: make(chan struct{}, 1),
		topics:  map[uint64]*epochTopic{},

		announce: make(chan struct{}, 1),
	}
	lg.pub = topic.NewQueue[framed](lg, publishPolicy)
	if err := s.loadView(lg); err != nil {
		cancel()
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.live[id]; dup || s.ctx.Err() != nil {
		cancel()
		if dup {
			return nil
		}
		return fmt.Errorf("%w: group %s", errs.ErrClosed, id)
	}
	s.live[id] = lg
	if _, err := s.updateTopics(lg); err != nil {
		delete(s.live, id)
		cancel()
		s.closeTopics(lg)
		return fmt.Errorf("group %s: %w", id, err)
	}
	// Started under s.mu, so that Close, which takes s.mu after ending
	// s.ctx, finds the group and waits for them.
	s.goGroup(lg, func() { s.publishGroupLoop(lg) })
	// lg.ctx also ends when the service closes.
	s.goGroup(lg, func() {
		topic.Every(lg.ctx.Done(), s.cfg.SyncInterval, lg.syncNow, func() time.Duration { s.syncGroupRound(lg); return 0 })
	})
	s.goGroup(lg, func() { topic.AfterPoke(lg.ctx.Done(), lg.receipt, s.cfg.ReceiptDelay, func() { s.sendReceipt(lg) }) })
	s.goGroup(lg, func() {
		topic.Every(lg.ctx.Done(), s.cfg.EpochGrace, lg.retopic, func() time.Duration { return s.retopic(lg) })
	})
	s.goGroup(lg, func() { topic.AfterPoke(lg.ctx.Done(), lg.announce, 0, func() { s.announceName(lg) }) })
	poke(lg.announce) // joined, or back after a restart
	return nil
}

// goGroup runs fn in a goroutine of the group, which stopGroupLive and
// Close wait for.
func (s *Service) goGroup(lg *liveGroup, fn func()) { topic.Go(&lg.wg, &s.wg, fn) }

// stopGroupLive leaves a group's topics and waits for the group's
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
	s.closeTopics(lg)
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

// loadView reads the group's rosters into its gate.
func (s *Service) loadView(lg *liveGroup) error {
	return s.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, lg.id)
		if err != nil {
			return err
		}
		chain, err := rosterchain.Load(tx, g)
		if err != nil {
			return err
		}
		lg.gate.SetView(gate.ViewOf(chain))
		return nil
	})
}

// refreshGroup reloads a live group's rosters after they changed, moves it
// to the topic of the newest epoch whose key is here, and has our name
// told in that epoch.
func (s *Service) refreshGroup(id group.ID) {
	lg, ok := s.get(id)
	if !ok {
		return
	}
	if err := s.loadView(lg); err != nil {
		s.log.Warn("group: rosters not reloaded", "group", id, "err", err)
		return
	}
	if _, err := s.updateTopics(lg); err != nil {
		s.log.Warn("group: epoch topic not joined", "group", id, "err", err)
	}
	poke(lg.retopic)  // a grace window may have begun: the topic loop times it
	poke(lg.announce) // a new epoch, whose members have not heard our name
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

// readTopic stores and opens the envelopes of an epoch's topic until it
// closes, a batch of those already waiting per transaction.
func (s *Service) readTopic(lg *liveGroup, t *pubsub.Topic) {
	topic.ReadBatches(t.Messages(), groupReadBatch, remoteEnvelope, func(batch []incoming) {
		if err := s.storeEnvelopes(lg.id, batch); err != nil {
			s.log.Warn("group: envelopes not stored", "group", lg.id, "err", err)
		}
	})
}

// remoteEnvelope is the envelope the validator opened from a frame on the
// topic, with its stored form, unless it is our own (stored before it was
// published).
func remoteEnvelope(m pubsub.Message) (incoming, bool) {
	e, ok := m.Decoded.(*group.Envelope)
	if m.Local || !ok {
		return incoming{}, false
	}
	data, err := e.MarshalBinary()
	if err != nil {
		return incoming{}, false
	}
	return incoming{e, data}, true
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
