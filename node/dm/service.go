package dm

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/storage"
)

// Protocol IDs.
const (
	ProtocolPreKeys = "/backchannel/prekeys/1.0.0"
	ProtocolDM      = "/backchannel/dm/1.0.0"
)

// Gate decides what strangers may do: node/requests implements it.
type Gate interface {
	// AllowPreKey reports whether p may fetch another bundle now.
	AllowPreKey(p peer.ID) bool
	// AllowOneTimePreKey reports whether the bundle p fetches now may hold
	// a fresh one-time prekey (a slower allowance than bundles: without
	// it, one peer could use up the node's cap).
	AllowOneTimePreKey(p peer.ID) bool
	// AdmitStranger applies the caps, rate limits, stamp and token rules to
	// a stranger's envelope, in the receive transaction tx. A non-empty
	// reason asks the sender to retry later.
	AdmitStranger(tx *storage.Txn, s Stranger) (reason string, err error)
}

// Stranger is an envelope from a peer that is not an accepted contact, as
// the Gate sees it.
type Stranger struct {
	Peer peer.ID
	Key  keys.PublicKey
	// Known: p has a contact record (an earlier request, or a block).
	Known bool
	// Stored: messages that count against p's request thread besides those
	// stored before this transaction: stored earlier in it, or, for a
	// blocked peer, those its thread held when blocked and dropped since.
	Stored         int
	RatchetMessage []byte
	Stamp          []byte
	InviteToken    []byte
}

// Mailboxes is what the 1:1 service needs of mailboxes (node/mailbox
// implements it): depositing for a peer that cannot be reached, keeping the
// lists peers send us, and the list our bundles publish.
type Mailboxes interface {
	// Deposit seals frames to p's identity key to and stores them in one of
	// p's mailboxes; it returns how many leading frames were stored.
	// errs.ErrNoMailbox: p has none we know of.
	Deposit(ctx context.Context, p peer.ID, to keys.DHPublic, frames [][]byte) (int, error)
	// Learn keeps the mailbox list p sent, in the receive transaction.
	Learn(tx *storage.Txn, p peer.ID, list []byte) error
	// Published is our list for our bundles; nil without mailboxes.
	Published() []byte
	// LearnPublished keeps the list in p's bundle.
	LearnPublished(p peer.ID, list []byte) error
	// Bundle fetches p's prekey bundle from one of p's mailboxes, for a
	// first message to deposit; the caller verifies it.
	Bundle(ctx context.Context, p peer.ID) ([]byte, error)
}

// Config configures the 1:1 service.
type Config struct {
	// Contacts gives the profile name sent on acceptance.
	Contacts *contacts.Service
	// Gate admits strangers and rate-limits bundle requests.
	Gate Gate
	// Groups receives group control contents inside the receive
	// transaction; nil drops them (acked).
	Groups GroupHandler
	// Mailboxes, when set, takes what the outbox cannot deliver once a peer
	// has been unreachable for DepositAfter (0: at the first failed try).
	Mailboxes    Mailboxes
	DepositAfter time.Duration
	// FailAfter is how long the outbox tries a message before it marks it
	// failed (DefaultFailAfter when zero).
	FailAfter time.Duration
	// MaxTextBytes bounds one text message.
	MaxTextBytes int
	// StampDifficulty is published in bundles (0: no stamp asked).
	StampDifficulty uint8
	// RetryBase and RetryMax bound the outbox's exponential backoff.
	RetryBase, RetryMax time.Duration
	// Now is the clock prekeys are minted, rotated, expired and checked by;
	// time.Now when nil (tests set it).
	Now func() time.Time
}

// Service is the 1:1 chat service: it sends, delivers and receives
// messages and serves prekey bundles.
type Service struct {
	env   env.Env
	cfg   Config
	peers *peerTable
	out   *outbox
	sendq chan *sendRequest

	ctx    context.Context // ends on Close or when the node closes
	cancel context.CancelFunc
	wg     sync.WaitGroup // Start's goroutines

	started   atomic.Bool
	startOnce sync.Once
	closeOnce sync.Once
}

// New returns the 1:1 service of the node e describes; Start makes it serve.
func New(e env.Env, cfg Config) *Service {
	if cfg.FailAfter == 0 {
		cfg.FailAfter = DefaultFailAfter
	}
	ctx, cancel := context.WithCancel(e.Life.Context())
	d := &Service{env: e, cfg: cfg, peers: newPeerTable(), sendq: make(chan *sendRequest, maxSendGroup), ctx: ctx, cancel: cancel}
	d.out = newOutbox(d)
	return d
}

// Handlers registers the DM and prekey stream handlers. The node calls it
// before it starts the network, so that no early stream is refused.
func (d *Service) Handlers() {
	h := d.env.Net.Host()
	d.env.Life.Handle(h, ProtocolDM, d.handleDM)
	d.env.Life.Handle(h, ProtocolPreKeys, d.handlePreKeys)
	h.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
		d.out.peerConnected(c.RemotePeer())
	}})
}

// Start starts the outbox and the sender.
func (d *Service) Start() {
	d.startOnce.Do(func() {
		d.goOwned(func() { d.out.run(d.ctx) })
		d.goOwned(func() { d.runSender(d.ctx) })
		d.goOwned(func() { d.runPreKeySweeper(d.ctx) })
		d.goOwned(func() { d.runFailSweeper(d.ctx) })
		d.started.Store(true)
	})
}

// Close stops the service's handlers, outbox and sender and waits for them.
// It is idempotent. Work a stream handler started after a commit belongs to
// the node's lifetime, which the node waits for.
func (d *Service) Close() {
	d.closeOnce.Do(func() {
		d.cancel()
		h := d.env.Net.Host()
		h.RemoveStreamHandler(ProtocolDM)
		h.RemoveStreamHandler(ProtocolPreKeys)
		d.wg.Wait()
	})
}

func (d *Service) goOwned(fn func()) {
	d.wg.Add(1)
	d.env.Life.Go(func() {
		defer d.wg.Done()
		fn()
	})
}
