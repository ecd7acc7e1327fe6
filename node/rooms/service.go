package rooms

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// Config configures a Service.
type Config struct {
	// Env is the node's environment: store, identity, network, event bus,
	// logger and lifetime.
	Env env.Env
	// PubSub carries the rooms' topics. The service closes its topics; the
	// node closes the PubSub.
	PubSub *pubsub.PubSub
	// SyncInterval is how often a joined room asks a peer for messages it
	// missed (10 s when zero).
	SyncInterval time.Duration
	// HistoryAge bounds a room's history by age: older messages are neither
	// served to peers nor kept (7 days when zero).
	HistoryAge time.Duration
	// HistoryCount and HistoryBytes bound a joined room's stored history
	// whatever the rate it arrives at: once it passes HistoryCount messages
	// and a tenth, or HistoryBytes of messages, it is pruned, oldest first,
	// back to HistoryCount and nine tenths of HistoryBytes
	// (DefaultHistoryCount and DefaultHistoryBytes when zero; see
	// history.go).
	HistoryCount int
	HistoryBytes int64
	// SyncRate and SyncBurst rate-limit, per peer, the sync requests the
	// service serves (2/s, burst 10, when zero).
	SyncRate  rate.Limit
	SyncBurst int
	// ReprovideInterval is how often a joined room is announced again in
	// the DHT (p2p.DefaultReprovideInterval, 12 h, when zero: well inside
	// the 48 h after which DHT peers drop the announcement).
	ReprovideInterval time.Duration
	// ProfileName returns the user's profile name: our name in the rooms
	// where we chose it (NameChoice.UseProfile). Nil: no name.
	ProfileName func() string
	// BallotFrom is the room size, in peers counted present, from which a
	// listener hands its upvotes and reactions to the host rather than
	// publish them, and the host sends a census (DefaultBallotFrom when
	// zero; negative: never).
	BallotFrom int
	// TallyInterval is how often the host of a room tells it the counts
	// of the ballots it took (DefaultTallyInterval when zero).
	TallyInterval time.Duration
	// CensusInterval is how often the host of a large room tells it the
	// peers present (presenceBase, a minute, when zero; at most
	// roomstate.CensusFresh, for which a census stands).
	CensusInterval time.Duration
	// MaxBallots bounds the ballots the host keeps of a room
	// (DefaultMaxBallots when zero).
	MaxBallots int
}

func (c *Config) applyDefaults() {
	if c.SyncInterval == 0 {
		c.SyncInterval = 10 * time.Second
	}
	if c.HistoryAge == 0 {
		c.HistoryAge = 7 * 24 * time.Hour
	}
	if c.HistoryCount == 0 {
		c.HistoryCount = DefaultHistoryCount
	}
	if c.HistoryBytes == 0 {
		c.HistoryBytes = DefaultHistoryBytes
	}
	if c.SyncRate == 0 {
		c.SyncRate, c.SyncBurst = 2, 10
	}
	if c.ReprovideInterval == 0 {
		c.ReprovideInterval = p2p.DefaultReprovideInterval
	}
	if c.BallotFrom == 0 {
		c.BallotFrom = DefaultBallotFrom
	}
	if c.TallyInterval == 0 {
		c.TallyInterval = DefaultTallyInterval
	}
	if c.CensusInterval == 0 {
		c.CensusInterval = presenceBase
	}
	c.CensusInterval = min(c.CensusInterval, roomstate.CensusFresh)
	if c.MaxBallots == 0 {
		c.MaxBallots = DefaultMaxBallots
	}
}

// Service is a node's live rooms: the rooms it joined, their topics and
// state, the store writer of their messages and the sync protocol.
type Service struct {
	cfg    Config
	env    env.Env
	ps     *pubsub.PubSub
	syncs  *pubsub.Limiter
	writes *writeQueue
	// ballotWrites queues the ballots we take as a host for the ballot
	// writer (ballotstore.go).
	ballotWrites chan ballotWrite
	// ballotPeers and ballotVoters rate-limit the ballots we take as a
	// room's host, per remote peer and per voter.
	ballotPeers, ballotVoters *pubsub.Limiter

	// ctx ends on Close; every goroutine of the service but the store
	// writer is counted in wg.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	// stopWriter is closed once every goroutine in wg has ended, so that
	// nothing is queued after the writer's last batch; writerDone is
	// closed when that batch is stored.
	stopWriter, writerDone chan struct{}

	mu      sync.Mutex
	closed  bool
	writing bool // the store writer was started
	live    map[room.ID]*liveRoom
	// batchStored, if set, is called by the store writer after each batch
	// it stored (and pruned for): a test hook.
	batchStored atomic.Pointer[func([]storage.RoomMessage)]
	// sizes holds the running totals of each room joined since the service
	// started (see history.go); a room left keeps its entry, so a rejoin
	// goes on counting.
	sizes   map[room.ID]*roomSize
	helpers map[room.ID][]peer.ID // peers that served a room's descriptor

	profileMu sync.Mutex
	profile   *string // the profile name, read once; nil: read it again (see profileName)

	startOnce sync.Once
	closeOnce sync.Once
	closeErr  error
}

// maxLimiters bounds the per-peer sync limiter table; the least recently
// used entries go first.
const maxLimiters = 10000

// New makes the rooms service; Start makes it serve.
func New(cfg Config) *Service {
	cfg.applyDefaults()
	ctx, cancel := context.WithCancel(cfg.Env.Life.Context())
	return &Service{
		cfg:   cfg,
		env:   cfg.Env,
		ps:    cfg.PubSub,
		syncs: pubsub.NewLimiter(cfg.SyncRate, cfg.SyncBurst, maxLimiters),

		ballotPeers:  pubsub.NewLimiter(BallotPeerRate, BallotPeerBurst, maxLimiters),
		ballotVoters: pubsub.NewLimiter(BallotVoterRate, BallotVoterBurst, maxLimiters),
		writes:       newWriteQueue(),
		ballotWrites: make(chan ballotWrite, ballotQueueSize),
		stopWriter:   make(chan struct{}),
		writerDone:   make(chan struct{}),
		ctx:          ctx,
		cancel:       cancel,
		live:         map[room.ID]*liveRoom{},
		sizes:        map[room.ID]*roomSize{},
		helpers:      map[room.ID][]peer.ID{},
	}
}

// Start serves the sync and ballot protocols, starts the store writer and
// rejoins the rooms joined before.
func (s *Service) Start(ctx context.Context) error {
	var err error
	s.startOnce.Do(func() {
		s.env.Life.Handle(s.env.Net.Host(), ProtocolSync, s.handleSync)
		s.env.Life.Handle(s.env.Net.Host(), ProtocolBallot, s.handleBallot)
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			err = fmt.Errorf("rooms: %w", errs.ErrClosed)
			return
		}
		s.writing = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.runBallotWriter()
		}()
		go func() {
			defer close(s.writerDone)
			s.runWriter()
		}()
		err = s.rejoin(ctx)
	})
	return err
}

// Close leaves the rooms' topics (without the leaving presence: the rooms
// stay joined for the next start), stores what the writer holds and waits
// for every goroutine of the service. It is idempotent.
func (s *Service) Close() error {
	s.closeOnce.Do(func() {
		s.env.Net.Host().RemoveStreamHandler(ProtocolSync)
		s.env.Net.Host().RemoveStreamHandler(ProtocolBallot)
		s.mu.Lock()
		s.closed = true
		writing := s.writing
		live := s.live
		s.live = map[room.ID]*liveRoom{}
		s.mu.Unlock()
		s.cancel()
		var err error
		for _, lr := range live {
			lr.cancel()
			<-lr.published
			err = errors.Join(err, lr.topic.Close()) // ends the room's reader
		}
		s.wg.Wait()
		// Every message announced is queued by now: the writer's last
		// batch stores them all.
		close(s.stopWriter)
		if writing {
			<-s.writerDone
		}
		s.closeErr = err
	})
	return s.closeErr
}

// get returns a joined room.
func (s *Service) get(id room.ID) (*liveRoom, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	lr, ok := s.live[id]
	return lr, ok
}

// joined returns a joined room, or an error wrapping errs.ErrNotFound.
func (s *Service) joined(id room.ID) (*liveRoom, error) {
	lr, ok := s.get(id)
	if !ok {
		return nil, fmt.Errorf("%w: not in room %s", errs.ErrNotFound, id)
	}
	return lr, nil
}

// rememberHelper notes a peer that served a room's descriptor: the first to
// ask for history.
func (s *Service) rememberHelper(id room.ID, p peer.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.helpers[id] = append(s.helpers[id], p)
}

// self is our peer ID.
func (s *Service) self() peer.ID { return s.env.Net.Host().ID() }
