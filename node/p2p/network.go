package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	"github.com/libp2p/go-libp2p-kad-dht/records"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/metrics"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
	"github.com/libp2p/go-libp2p/p2p/protocol/holepunch"
	noise "github.com/libp2p/go-libp2p/p2p/security/noise"
	tls "github.com/libp2p/go-libp2p/p2p/security/tls"
	quic "github.com/libp2p/go-libp2p/p2p/transport/quic"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/internal/loopback"
)

// DHTProtocolPrefix keeps Backchannel's DHT apart from the public IPFS one.
const DHTProtocolPrefix = "/backchannel"

// Config configures a Network.
type Config struct {
	// Key is the node's identity key; the host's peer ID derives from it.
	Key lcrypto.PrivKey
	// ListenAddrs are multiaddrs to listen on.
	ListenAddrs []string
	// Bootstrap peers (ParseAddrInfos reads them from multiaddrs).
	Bootstrap []peer.AddrInfo
	// Remembered, when set, returns peers the node remembers from earlier
	// runs; the DHT bootstraps from them (besides Bootstrap) whenever its
	// routing table is empty.
	Remembered func() []peer.AddrInfo
	// Relays, when set, returns the relays (helpers) the node knows; a node
	// that is not publicly reachable reserves a slot on one of them.
	Relays func() []peer.AddrInfo

	// Opt-in network features; all off by default. Relay client and hole
	// punching do nothing for a node that listens only on loopback.
	EnableNATPortMap   bool
	EnableRelayClient  bool
	EnableHolePunching bool
	EnableMDNS         bool
	// Helper runs the node as an always-on helper: publicly reachable by
	// declaration, DHT server, relay service and AutoNAT server.
	Helper bool

	// PublicRanges are address ranges to treat as the public internet
	// besides those go-libp2p calls public: a namespace lab's "internet"
	// (go-libp2p counts 198.18.0.0/15 as not public). Empty outside tests.
	PublicRanges []netip.Prefix

	// Gater filters connections of a host built here; nil: none.
	Gater *loopback.Gater

	// NewHost, when set, makes the host instead of the libp2p options above
	// (ListenAddrs, the opt-in features and Gater are then the constructor's
	// business): tests pass one that adds a peer to a mocknet. The Network
	// owns what it returns and closes it.
	NewHost func(key lcrypto.PrivKey) (host.Host, error)

	// BandwidthReporter, when set, counts the bytes of every stream of a
	// host built here (libp2p.BandwidthReporter); nil: none.
	BandwidthReporter metrics.Reporter

	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger

	// dhtCaps bounds what the DHT stores for others; zero: the defaults
	// (tests make them small).
	dhtCaps dhtStoreCaps
}

// Network is a node's libp2p host and DHT.
type Network struct {
	cfg       Config
	host      host.Host // the host as built; Host() wraps it
	dht       *dht.IpfsDHT
	dhtStore  *boundedStore // what the DHT holds for others
	mdns      mdns.Service
	holepunch *holepunch.Service
	punched   punchedPeers
	relays    *reservations
	observed  *observedAddrs
	log       *slog.Logger

	started   atomic.Bool
	cancel    context.CancelFunc
	wg        sync.WaitGroup // bootstrap dials, event loops
	closeOnce sync.Once
	closeErr  error
}

// dialTimeout bounds connecting to a peer, DHT lookup included.
const dialTimeout = 20 * time.Second

// New builds the host and the DHT. The DHT runs in server mode on a helper
// and on a node that listens only on loopback (every peer that can reach it
// at all can dial it), and in auto mode otherwise: client until AutoNAT
// finds the node publicly reachable.
func New(cfg Config) (*Network, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var err error
	n := &Network{cfg: cfg, log: cfg.Logger, observed: newObservedAddrs(cfg.PublicRanges)}
	dhtOpts, err := n.dhtOptions()
	if err != nil {
		return nil, err
	}
	if cfg.NewHost != nil {
		if n.host, err = cfg.NewHost(cfg.Key); err != nil {
			return nil, fmt.Errorf("libp2p host: %w", err)
		}
		if err := n.observed.subscribe(n.host); err != nil {
			n.host.Close()
			return nil, err
		}
		if n.dht, err = dht.New(n.host, dhtOpts...); err != nil {
			n.host.Close()
			return nil, fmt.Errorf("DHT: %w", err)
		}
		return n, nil
	}
	n.relays = newReservations(cfg.Relays, cfg.Logger)
	if n.host, err = newHost(cfg, n.relays, func(h host.Host) (routing.PeerRouting, error) {
		if err := n.observed.subscribe(h); err != nil {
			return nil, err
		}
		d, err := dht.New(h, dhtOpts...)
		n.dht = d
		return d, err
	}); err != nil {
		return nil, err
	}
	n.relays.h = n.host
	if cfg.EnableHolePunching && !n.loopbackOnly() {
		if n.holepunch, err = newHolePunching(n.host, n.holePunchAddrs, &n.punched); err != nil {
			n.host.Close()
			return nil, fmt.Errorf("hole punching: %w", err)
		}
	}
	if cfg.EnableMDNS {
		n.mdns = mdns.NewMdnsService(n.host, "backchannel", mdnsNotifee{h: n.host, log: cfg.Logger})
	}
	return n, nil
}

// dhtOptions are the DHT's options. What it stores for others is bounded
// (boundedStore: records in all, bytes, provider records per providing
// peer), and it stores provider records only: Backchannel announces and
// finds rooms by provider records, never puts or gets values, and needs
// no /pk records (peer IDs embed their Ed25519 keys), so value records
// (PUT_VALUE / GET_VALUE) are off and a peer sending one has its stream
// reset. The protocol prefix is our own, so kad-dht lets the values go.
func (n *Network) dhtOptions() ([]dht.Option, error) {
	cache, err := newProviderCache(dhtCacheSize)
	if err != nil {
		return nil, err
	}
	n.dhtStore = newBoundedStore(n.cfg.dhtCaps, cache.forget)
	return []dht.Option{
		dht.ProtocolPrefix(DHTProtocolPrefix),
		dht.Mode(n.dhtMode()),
		dht.BootstrapPeersFunc(n.bootstrapPeers),
		dht.Datastore(n.dhtStore),
		dht.DisableValues(),
		dht.ProviderManagerOpts(records.Cache(cache)),
	}, nil
}

// loopbackOnly reports whether the node listens only on loopback (a
// test's mocknet host counts as loopback).
func (n *Network) loopbackOnly() bool {
	return n.cfg.NewHost != nil || AllLoopback(n.cfg.ListenAddrs)
}

// dhtMode is the DHT mode the node starts in; see New.
func (n *Network) dhtMode() dht.ModeOpt {
	if n.cfg.Helper || n.loopbackOnly() {
		return dht.ModeServer
	}
	return dht.ModeAuto
}

// bootstrapPeers are the configured bootstrap peers and the remembered
// ones, once the network has started. The DHT asks as soon as it exists,
// before the host listens: a dial then would leave from a passing port,
// and the bootstrap peer would see the node where nothing listens.
func (n *Network) bootstrapPeers() []peer.AddrInfo {
	if !n.started.Load() {
		return nil
	}
	out := slices.Clone(n.cfg.Bootstrap)
	if n.cfg.Remembered != nil {
		out = append(out, n.cfg.Remembered()...)
	}
	return out
}

// transportOptions are the node's transports and security: its own host's
// and the throwaway hosts' (Ephemeral), which must dial like it.
func transportOptions() []libp2p.Option {
	return []libp2p.Option{
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(tls.ID, tls.New),
		libp2p.Security(noise.ID, noise.New),
	}
}

// newHost builds a libp2p host from cfg, with routing as its peer routing.
func newHost(cfg Config, relays *reservations, routing func(host.Host) (routing.PeerRouting, error)) (host.Host, error) {
	cm, err := connmgr.NewConnManager(64, 256, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, err
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(rcmgr.DefaultLimits.AutoScale()))
	if err != nil {
		return nil, err
	}
	opts := append(transportOptions(),
		libp2p.Identity(cfg.Key),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
		libp2p.Routing(routing),
	)
	if cfg.Gater != nil {
		opts = append(opts, libp2p.ConnectionGater(cfg.Gater))
	}
	if cfg.BandwidthReporter != nil {
		opts = append(opts, libp2p.BandwidthReporter(cfg.BandwidthReporter))
	}
	if cfg.EnableNATPortMap {
		opts = append(opts, libp2p.NATPortMap())
	}
	opts = append(opts, reachabilityOptions(cfg, relays)...)
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("libp2p host: %w", err)
	}
	return h, nil
}

// Host returns the libp2p host. Streams it opens may run over a relayed
// connection when that is all there is to a peer (see relayedOK).
func (n *Network) Host() host.Host { return relayedOK{n.host} }

// DHT returns the Kademlia DHT.
func (n *Network) DHT() *dht.IpfsDHT { return n.dht }

// Start bootstraps the DHT and dials the bootstrap peers, configured and
// remembered, in the background (a bootstrap peer that does not answer is
// logged, not fatal).
func (n *Network) Start(ctx context.Context) error {
	n.started.Store(true)
	if err := n.dht.Bootstrap(ctx); err != nil {
		return fmt.Errorf("DHT bootstrap: %w", err)
	}
	ctx, n.cancel = context.WithCancel(ctx)
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		n.observed.run(ctx)
	}()
	if n.relays != nil && n.cfg.EnableRelayClient && !n.loopbackOnly() {
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.relays.run(ctx)
		}()
	}
	// Configured bootstrap peers keep their addresses for good and are worth
	// a warning when down; remembered ones are in the peerstore already (the
	// peerbook put them there) and may well be gone.
	for _, ai := range n.cfg.Bootstrap {
		n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
		n.dialBootstrap(ctx, ai, slog.LevelWarn)
	}
	if n.cfg.Remembered != nil {
		for _, ai := range n.cfg.Remembered() {
			if !slices.ContainsFunc(n.cfg.Bootstrap, func(b peer.AddrInfo) bool { return b.ID == ai.ID }) {
				n.dialBootstrap(ctx, ai, slog.LevelDebug)
			}
		}
	}
	return nil
}

// dialBootstrap dials a bootstrap peer in the background, logging a failure
// at level.
func (n *Network) dialBootstrap(ctx context.Context, ai peer.AddrInfo, level slog.Level) {
	if ai.ID == n.host.ID() {
		return
	}
	n.wg.Add(1)
	go func() {
		defer n.wg.Done()
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := n.host.Connect(cctx, ai); err != nil {
			n.log.Log(ctx, level, "bootstrap peer unreachable", "bootstrap", ai.ID, "err", err)
		}
	}()
}

// Close stops the DHT, mDNS and the host, and waits for bootstrap dials.
// It is idempotent.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
		if n.cancel != nil {
			n.cancel() // ends observed.run, which closes its subscription
		} else if n.observed.sub != nil {
			n.observed.sub.Close() // never started
		}
		if n.holepunch != nil {
			errs = append(errs, n.holepunch.Close())
		}
		if n.mdns != nil {
			errs = append(errs, n.mdns.Close())
		}
		if n.dht != nil {
			errs = append(errs, n.dht.Close())
		}
		errs = append(errs, n.host.Close())
		n.wg.Wait()
		n.closeErr = errors.Join(errs...)
	})
	return n.closeErr
}

// Peers lists the peers with an open connection.
func (n *Network) Peers() []peer.ID { return n.host.Network().Peers() }

// AddAddrs gives the peerstore addresses of p, for good; unreadable ones
// are skipped.
func (n *Network) AddAddrs(p peer.ID, addrs []string) {
	var mas []ma.Multiaddr
	for _, s := range addrs {
		if a, err := ma.NewMultiaddr(s); err == nil {
			mas = append(mas, a)
		}
	}
	if len(mas) > 0 {
		n.host.Peerstore().AddAddrs(p, mas, peerstore.PermanentAddrTTL)
	}
}

// Connect makes sure there is a connection to p, looking its addresses up
// in the DHT when the peerstore has none that work.
func (n *Network) Connect(ctx context.Context, p peer.ID) error {
	h := n.host
	if h.Network().Connectedness(p) == network.Connected {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	forgetDialBackoff(h, p)
	if len(h.Peerstore().Addrs(p)) > 0 {
		if err := h.Connect(ctx, peer.AddrInfo{ID: p}); err == nil {
			return nil
		}
	}
	ai, err := n.dht.FindPeer(ctx, p)
	if err != nil {
		return fmt.Errorf("peer %s unreachable: %w", p.ShortString(), err)
	}
	h.Peerstore().AddAddrs(p, ai.Addrs, peerstore.AddressTTL)
	if err := h.Connect(ctx, ai); err != nil {
		return fmt.Errorf("peer %s unreachable: %w", p.ShortString(), err)
	}
	return nil
}

// ParseAddrInfos reads multiaddrs ending in /p2p/<peer ID>.
func ParseAddrInfos(addrs []string) ([]peer.AddrInfo, error) {
	var out []peer.AddrInfo
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, fmt.Errorf("bootstrap address %q: %w", s, err)
		}
		ai, err := peer.AddrInfoFromP2pAddr(a)
		if err != nil {
			return nil, fmt.Errorf("bootstrap address %q: %w", s, err)
		}
		out = append(out, *ai)
	}
	return out, nil
}

// AllLoopback reports whether every address is a loopback IP address.
func AllLoopback(addrs []string) bool {
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil || !loopback.IsLoopback(a) {
			return false
		}
	}
	return true
}
