package node

import (
	"fmt"
	"log/slog"
	"net/netip"
	"time"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"

	"github.com/backchannel/backchannel/crypto/stamp"
	"github.com/backchannel/backchannel/node/mailbox"
	"github.com/backchannel/backchannel/node/requests"
)

// DefaultListenAddrs keep a node on loopback unless told otherwise: a node
// only listens on the network when its user passes --listen.
var DefaultListenAddrs = []string{"/ip4/127.0.0.1/tcp/0", "/ip4/127.0.0.1/udp/0/quic-v1"}

// Config configures a Node. The zero value of every field but Home is usable.
type Config struct {
	// Home is the node's folder: its store lives in Home/store.
	Home string
	// ListenAddrs are multiaddrs to listen on; DefaultListenAddrs when empty.
	ListenAddrs []string
	// Bootstrap peers, as multiaddrs ending in /p2p/<peer ID>. None by default:
	// a node never contacts public bootstrap peers.
	Bootstrap []string

	// Opt-in network features; all off by default.
	EnableNATPortMap   bool
	EnableRelayClient  bool
	EnableHolePunching bool
	EnableMDNS         bool
	// Helper runs the node as an always-on helper for a community: DHT server
	// and relay service.
	Helper bool
	// PublicRanges are address ranges treated as the public internet besides
	// those go-libp2p calls public: a namespace lab's "internet". Empty
	// outside tests; see p2p.Config.
	PublicRanges []netip.Prefix

	// StampDifficulty is the proof-of-work, in bits, asked of strangers'
	// messages, published in the node's prekey bundle:
	// stamp.DefaultDifficulty (11 bits, about 0.7 s of a sender's CPU per
	// message until its first reply) when zero.
	StampDifficulty uint8
	// NoStamp asks strangers for no stamp when StampDifficulty is zero:
	// for tests, benchmarks and demo nodes, whose strangers are our own.
	NoStamp bool

	// Limits on strangers and message sizes; DefaultLimits when zero.
	Limits Limits

	// Gater filters connections. When nil and every listen address is
	// loopback, the node uses a LoopbackGater so that it never dials out of
	// the machine.
	Gater *LoopbackGater

	// NewHost, when set, makes the node's libp2p host from its identity key
	// instead of the options above (ListenAddrs, the opt-in features and
	// Gater are then its business): fast tests pass one that adds a peer to
	// a go-libp2p mocknet. The node owns the host and closes it.
	NewHost func(key lcrypto.PrivKey) (host.Host, error)

	// BandwidthReporter, when set, is handed to libp2p
	// (libp2p.BandwidthReporter): it is told the bytes read and written on
	// every stream of the node's host, by protocol and peer (stream payload
	// after the muxer: no transport handshake, encryption or muxer framing).
	// Off by default; the bench's audience scenario counts each node's
	// bytes with it. Ignored with NewHost.
	BandwidthReporter metrics.Reporter
	// PubSubTracer, when set, is told of everything GossipSub does on the
	// node (pubsub.Config.Tracer). Off by default; the bench's audience
	// scenario breaks each listener's GossipSub bytes down with it.
	PubSubTracer lpubsub.RawTracer

	// StoreKey, when set, encrypts the store at rest: 32 bytes, see
	// storage.Config.EncryptionKey. The store must be opened with the key it
	// was created with (none for a store created without).
	StoreKey []byte

	// NoSync skips fsync in the store: for benchmarks only.
	NoSync bool

	// RetryBase and RetryMax bound the outbox's exponential backoff.
	RetryBase, RetryMax time.Duration

	// RoomSyncInterval is how often a joined room asks a peer for messages
	// it missed (10 s by default).
	RoomSyncInterval time.Duration
	// RoomHistoryAge bounds a room's history by age: older messages are
	// neither served to peers nor kept (7 days by default).
	RoomHistoryAge time.Duration
	// RoomBallotFrom is the room size, in peers counted present, from
	// which a listener hands its upvotes and reactions to the room's host
	// instead of publishing them, and the host tells the room its census
	// (rooms.DefaultBallotFrom, 100, by default; negative: never).
	RoomBallotFrom int
	// RoomTallyInterval is how often a room's host tells the room the
	// counts of the votes handed to it (1 s by default).
	RoomTallyInterval time.Duration
	// ReprovideInterval is how often the node announces again in the DHT
	// what it provides there (its rooms, by ID and by name): 12 h by
	// default (p2p.DefaultReprovideInterval), well inside the 48 h after
	// which DHT peers drop an announcement.
	ReprovideInterval time.Duration
	// PubSubHeartbeat shortens GossipSub's heartbeat (tests); 0: default.
	PubSubHeartbeat time.Duration
	// GroupSyncInterval is how often a joined group asks a fellow member
	// for envelopes and rosters it missed (10 s by default).
	GroupSyncInterval time.Duration
	// GroupReceiptDelay is how long a node gathers received group messages
	// before it tells the group how far it got (5 s by default: every
	// receipt is a message every member verifies and stores).
	GroupReceiptDelay time.Duration
	// GroupEpochGrace is how long a node stays on a group epoch's topic
	// after a newer epoch began (groups.DefaultEpochGrace when zero); tests
	// shorten it.
	GroupEpochGrace time.Duration

	// MailboxDepositAfter is how long the outbox tries an unreachable peer
	// before it deposits in one of the peer's mailboxes
	// (DefaultDepositAfter when zero; negative: at the first failure).
	MailboxDepositAfter time.Duration
	// OutboxFailAfter is how long the outbox tries a message before it
	// marks it failed (dm.DefaultFailAfter, 30 days, when zero).
	OutboxFailAfter time.Duration
	// MailboxLimits bound what the node holds as a mailbox for others;
	// mailbox.DefaultLimits when zero.
	MailboxLimits mailbox.Limits

	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
}

// Limits bound what strangers (peers not accepted) can make a node store and
// do, and the size of messages; see requests.Limits.
type Limits = requests.Limits

// DefaultStampDifficulty is the proof-of-work, in bits, a node asks of
// strangers' messages unless configured: see Config.StampDifficulty.
const DefaultStampDifficulty = stamp.DefaultDifficulty

// DefaultLimits are the limits a node uses unless configured.
var DefaultLimits = requests.DefaultLimits

func (c *Config) applyDefaults() error {
	if c.Home == "" {
		return fmt.Errorf("node: Config.Home is required")
	}
	if len(c.ListenAddrs) == 0 {
		c.ListenAddrs = DefaultListenAddrs
	}
	if c.Limits == (Limits{}) {
		c.Limits = DefaultLimits
	}
	if c.StampDifficulty == 0 && !c.NoStamp {
		c.StampDifficulty = DefaultStampDifficulty
	}
	if c.RetryBase == 0 {
		c.RetryBase = time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = 5 * time.Minute
	}
	if c.RoomSyncInterval == 0 {
		c.RoomSyncInterval = 10 * time.Second
	}
	if c.GroupSyncInterval == 0 {
		c.GroupSyncInterval = 10 * time.Second
	}
	if c.GroupReceiptDelay == 0 {
		c.GroupReceiptDelay = 5 * time.Second
	}
	if c.RoomHistoryAge == 0 {
		c.RoomHistoryAge = 7 * 24 * time.Hour
	}
	switch {
	case c.MailboxDepositAfter == 0:
		c.MailboxDepositAfter = DefaultDepositAfter
	case c.MailboxDepositAfter < 0:
		c.MailboxDepositAfter = 0
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}
