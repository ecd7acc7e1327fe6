package groups

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// Config is what a Service is made from.
type Config struct {
	Env env.Env
	// Chats queues the 1:1 control contents that carry invitations, keys
	// and notices.
	Chats Chats
	// SyncInterval is how often a joined group asks a fellow member for
	// what it missed; 10 s when zero.
	SyncInterval time.Duration
	// ReceiptDelay is how long received messages are gathered before the
	// receipt that acknowledges them; 5 s when zero.
	ReceiptDelay time.Duration
	// MaxTextBytes bounds a text or an event's title.
	MaxTextBytes int
	// SyncRate and SyncBurst rate-limit group sync requests per peer.
	SyncRate  rate.Limit
	SyncBurst int
	// Private keeps each epoch's topic among the epoch's members; the node
	// gives the one its GossipSub runs with. Nil (some tests) lets anyone
	// on.
	Private *pubsub.Private
	// EpochGrace is how long a node stays on an epoch's topic after a
	// newer epoch began, and accepts envelopes there; 2 minutes when zero.
	EpochGrace time.Duration
	// ProfileName is the user's profile name, which this node announces in
	// each group it is in (nil or empty: none).
	ProfileName func() string
}

// DefaultEpochGrace is Config.EpochGrace when zero: long enough for the new
// key to reach members who are online, short enough that a removed member
// soon cannot post.
const DefaultEpochGrace = 2 * time.Minute

// maxSyncLimiters bounds the peers whose sync rate is tracked at once.
const maxSyncLimiters = 10000

// Service runs a node's private groups: their topics, their history sync,
// and the roster, key and message operations the node offers.
type Service struct {
	cfg   Config
	store *storage.Store
	id    identity.Identity
	net   *p2p.Network
	bus   *event.Bus
	log   *slog.Logger
	clock *env.SendClock
	chats Chats
	syncs *pubsub.Limiter

	ctx    context.Context // ends on Close
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine of every live group

	ps        *pubsub.PubSub // set by Start
	started   atomic.Bool
	closeOnce sync.Once

	mu    sync.Mutex
	live  map[group.ID]*liveGroup
	locks map[group.ID]*groupLock
}

// New makes a Service; Start joins the groups joined before.
func New(cfg Config) *Service {
	if cfg.SyncInterval == 0 {
		cfg.SyncInterval = 10 * time.Second
	}
	if cfg.ReceiptDelay == 0 {
		cfg.ReceiptDelay = 5 * time.Second
	}
	if cfg.EpochGrace == 0 {
		cfg.EpochGrace = DefaultEpochGrace
	}
	e := cfg.Env
	ctx, cancel := context.WithCancel(e.Life.Context())
	return &Service{
		cfg: cfg, store: e.Store, id: e.Identity, net: e.Net, bus: e.Bus, log: e.Log, clock: e.Clock,
		chats: cfg.Chats, syncs: pubsub.NewLimiter(cfg.SyncRate, cfg.SyncBurst, maxSyncLimiters),
		ctx: ctx, cancel: cancel,
		live: map[group.ID]*liveGroup{}, locks: map[group.ID]*groupLock{},
	}
}

// Start serves the group sync protocol and joins again the groups joined
// before, on ps (the node's GossipSub, which exists only once the node
// starts).
func (s *Service) Start(ps *pubsub.PubSub) error {
	s.ps = ps
	s.cfg.Env.Life.Handle(s.net.Host(), ProtocolSync, s.handleSync)
	if err := s.rejoinGroups(); err != nil {
		return err
	}
	s.started.Store(true)
	return nil
}

// Close leaves every live group's topic and waits for the groups'
// goroutines. The store keeps everything. It is idempotent.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		if s.net != nil {
			s.net.Host().RemoveStreamHandler(ProtocolSync)
		}
		s.mu.Lock()
		var ids []group.ID
		for id := range s.live {
			ids = append(ids, id)
		}
		s.mu.Unlock()
		for _, id := range ids {
			s.stopGroupLive(id)
		}
		s.wg.Wait()
	})
}

// groupLock is a group's lock and how many hold or wait for it.
type groupLock struct {
	mu   sync.Mutex
	refs int
}

// lock takes the group's lock and returns what releases it: it serialises
// every change of a group's rosters, keys and chains on this node. Lock
// order: a peer's 1:1 session lock may be held when taking it, never the
// other way round. A group's entry lives only while someone holds or waits
// for its lock, so the map holds at most one entry per operation in flight,
// whatever the groups joined and left.
func (s *Service) lock(id group.ID) (unlock func()) {
	s.mu.Lock()
	l, ok := s.locks[id]
	if !ok {
		l = &groupLock{}
		s.locks[id] = l
	}
	l.refs++
	s.mu.Unlock()
	l.mu.Lock()
	return func() {
		l.mu.Unlock()
		s.mu.Lock()
		l.refs--
		if l.refs == 0 {
			delete(s.locks, id)
		}
		s.mu.Unlock()
	}
}

func (s *Service) get(id group.ID) (*liveGroup, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lg, ok := s.live[id]
	return lg, ok
}

// Rejected counts the envelopes of a live group that the topic validator
// rejected (forged, from non-members, of another group): a diagnostic.
func (s *Service) Rejected(id group.ID) int64 {
	lg, ok := s.get(id)
	if !ok {
		return 0
	}
	return lg.gate.Rejected()
}

func (s *Service) selfID() peer.ID { return s.id.Public().Key.PeerID() }

func (s *Service) self() keys.PublicKey { return s.id.Public().Key }

// Topic names the topic a live group publishes on now: a diagnostic.
func (s *Service) Topic(id group.ID) (string, bool) {
	lg, ok := s.get(id)
	if !ok {
		return "", false
	}
	t := lg.currentTopic()
	if t == nil {
		return "", false
	}
	return t.Name(), true
}

// Validate runs the validator of a live group's topic of epoch on data as
// if from had forwarded it: a diagnostic (false ok when the group is not
// live or not on that epoch's topic).
func (s *Service) Validate(ctx context.Context, id group.ID, epoch uint64, from peer.ID, data []byte) (res pubsub.Result, ok bool) {
	lg, ok := s.get(id)
	if !ok {
		return 0, false
	}
	lg.mu.Lock()
	et := lg.topics[epoch]
	lg.mu.Unlock()
	if et == nil {
		return 0, false
	}
	r, _ := lg.gate.Validator(et.key)(ctx, from, data)
	return r, true
}
