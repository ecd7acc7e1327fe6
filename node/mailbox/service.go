package mailbox

import (
	"context"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/storage"
)

// Protocol is the mailbox protocol: one request and one response per stream.
const Protocol = "/backchannel/mailbox/1.0.0"

const (
	// exchangeTimeout bounds one request and its response.
	exchangeTimeout = 30 * time.Second
	// maxRequestSize bounds a request frame: a deposit's items plus framing.
	maxRequestSize = maxDepositBytes + 128<<10
	// maxResponseSize bounds a response frame: a fetch's items plus framing.
	maxResponseSize = maxFetchBytes + 128<<10
	// drainInterval is how often a recipient drains its mailboxes without
	// being told: a notice can be lost with the connection that carried it.
	drainInterval = 5 * time.Minute
	// sweepInterval is how often a mailbox deletes expired items and
	// appointments.
	sweepInterval = time.Hour
)

// Drained is one item taken from a mailbox, opened: the frame its sender's
// outbox wrote for us, and who sealed it.
type Drained struct {
	From  peer.ID
	Frame []byte
}

// Receiver handles drained items exactly as if they had come over a DM
// stream from their senders: the 1:1 service implements it. done[i] reports
// that item i was committed (or is a duplicate, or is malformed and dropped
// for good) and may be deleted from the mailbox; a false leaves it there
// for a later drain (the sender was asked to retry later). An error means
// the store failed: nothing after the error is done.
type Receiver interface {
	ReceiveDrained(items []Drained) (done []bool, err error)
}

// Sender is what the mailbox service needs of 1:1 for itself: sending a
// contact our mailbox list (once the contact has answered us: before, each
// message to it pays a stamp), and the prekey bundle our mailboxes serve.
type Sender interface {
	SendMailboxList(p peer.ID, list []byte) error
	Answered(p peer.ID) bool
	MailboxBundle() ([]byte, error)
}

// Config configures the mailbox service.
type Config struct {
	Env      env.Env
	Receiver Receiver
	Sender   Sender
	// Helper holds mail for any identity that appoints it (within Limits);
	// otherwise only for accepted contacts, once the user agreed
	// (SetServeContacts).
	Helper bool
	// StampDifficulty is what strangers' deposits for us must carry: the
	// node's own, given to our mailboxes at appointment.
	StampDifficulty uint8
	// Limits bound what the node holds for others; DefaultLimits when zero.
	Limits Limits
	// Now is the clock for appointments, TTLs and stamps; time.Now when nil.
	Now func() time.Time
}

// Service is a node's mailbox service in all three parts: mailbox,
// recipient and depositor.
type Service struct {
	env env.Env
	cfg Config

	limiters *limiters

	drainKick chan peer.ID // a mailbox to drain now; "" for all
	mu        sync.Mutex
	mine      map[peer.ID]bool // our mailboxes
	notifying map[peer.ID]bool // recipients a notice is on its way to
	draining  map[peer.ID]bool
	lastDrain map[peer.ID]time.Time
	drainErr  map[peer.ID]string
	uploaded  map[peer.ID][32]byte // the hash of the bundle each of our mailboxes serves

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	startOnce sync.Once
	closeOnce sync.Once
}

// New returns the mailbox service; Handlers and Start make it serve.
func New(cfg Config) *Service {
	if cfg.Limits == (Limits{}) {
		cfg.Limits = DefaultLimits
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	ctx, cancel := context.WithCancel(cfg.Env.Life.Context())
	return &Service{
		env:       cfg.Env,
		cfg:       cfg,
		limiters:  newLimiters(cfg.Limits),
		drainKick: make(chan peer.ID, 16),
		mine:      map[peer.ID]bool{},
		notifying: map[peer.ID]bool{},
		draining:  map[peer.ID]bool{},
		lastDrain: map[peer.ID]time.Time{},
		drainErr:  map[peer.ID]string{},
		uploaded:  map[peer.ID][32]byte{},
		ctx:       ctx,
		cancel:    cancel,
	}
}

// Handlers registers the mailbox stream handler and watches connections to
// the node's mailboxes. The node calls it before it starts the network.
func (s *Service) Handlers() error {
	if err := s.loadMine(); err != nil {
		return err
	}
	h := s.env.Net.Host()
	s.env.Life.Handle(h, Protocol, s.handle)
	h.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		p := c.RemotePeer()
		if s.isMine(p) {
			s.kick(p)
		}
	}})
	return nil
}

// Start starts the drain loop and the expiry sweep.
func (s *Service) Start() {
	s.startOnce.Do(func() {
		s.goOwned(func() { s.runDrains(s.ctx) })
		s.goOwned(func() { s.runSweeps(s.ctx) })
		s.kick("")
	})
}

// Close stops the service and waits for its goroutines. It is idempotent.
func (s *Service) Close() {
	s.closeOnce.Do(func() {
		s.cancel()
		s.env.Net.Host().RemoveStreamHandler(Protocol)
		s.wg.Wait()
	})
}

func (s *Service) goOwned(fn func()) {
	s.wg.Add(1)
	s.env.Life.Go(func() {
		defer s.wg.Done()
		fn()
	})
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// view and update run f in a store transaction.
func (s *Service) view(f func(tx *storage.Txn) error) error   { return s.env.Store.View(f) }
func (s *Service) update(f func(tx *storage.Txn) error) error { return s.env.Store.Update(f) }
