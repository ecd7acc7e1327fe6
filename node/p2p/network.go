package p2p

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/routing"
	"github.com/libp2p/go-libp2p/p2p/discovery/mdns"
	"github.com/libp2p/go-libp2p/p2p/host/autorelay"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
	"github.com/libp2p/go-libp2p/p2p/net/connmgr"
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
	// Bootstrap peers, as multiaddrs ending in /p2p/<peer ID>.
	Bootstrap []string

	// Opt-in network features; all off by default.
	EnableNATPortMap   bool
	EnableRelayClient  bool
	EnableHolePunching bool
	EnableMDNS         bool
	// Helper runs the node as a relay service too.
	Helper bool

	// Gater filters connections of a host built here; nil: none.
	Gater *loopback.Gater

	// NewHost, when set, makes the host instead of the libp2p options above
	// (ListenAddrs, the opt-in features and Gater are then the constructor's
	// business): tests pass one that adds a peer to a mocknet. The Network
	// owns what it returns and closes it.
	NewHost func(key lcrypto.PrivKey) (host.Host, error)

	// Logger receives structured logs; nil discards them.
	Logger *slog.Logger
}

// Network is a node's libp2p host and DHT.
type Network struct {
	host      host.Host
	dht       *dht.IpfsDHT
	mdns      mdns.Service
	bootstrap []peer.AddrInfo
	log       *slog.Logger

	wg        sync.WaitGroup // bootstrap dials
	closeOnce sync.Once
	closeErr  error
}

// dialTimeout bounds connecting to a peer, DHT lookup included.
const dialTimeout = 20 * time.Second

// New builds the host and the DHT. The DHT runs in server mode.
func New(cfg Config) (*Network, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	bootstrap, err := ParseAddrInfos(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	n := &Network{bootstrap: bootstrap, log: cfg.Logger}
	dhtOpts := []dht.Option{
		dht.ProtocolPrefix(DHTProtocolPrefix),
		dht.Mode(dht.ModeServer),
		dht.BootstrapPeers(bootstrap...),
	}
	if cfg.NewHost != nil {
		if n.host, err = cfg.NewHost(cfg.Key); err != nil {
			return nil, fmt.Errorf("libp2p host: %w", err)
		}
		if n.dht, err = dht.New(n.host, dhtOpts...); err != nil {
			n.host.Close()
			return nil, fmt.Errorf("DHT: %w", err)
		}
		return n, nil
	}
	if n.host, err = newHost(cfg, bootstrap, func(h host.Host) (routing.PeerRouting, error) {
		d, err := dht.New(h, dhtOpts...)
		n.dht = d
		return d, err
	}); err != nil {
		return nil, err
	}
	if cfg.EnableMDNS {
		n.mdns = mdns.NewMdnsService(n.host, "backchannel", mdnsNotifee{h: n.host, log: cfg.Logger})
	}
	return n, nil
}

// newHost builds a libp2p host from cfg, with routing as its peer routing.
func newHost(cfg Config, bootstrap []peer.AddrInfo, routing func(host.Host) (routing.PeerRouting, error)) (host.Host, error) {
	cm, err := connmgr.NewConnManager(64, 256, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, err
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(rcmgr.DefaultLimits.AutoScale()))
	if err != nil {
		return nil, err
	}
	opts := []libp2p.Option{
		libp2p.Identity(cfg.Key),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(tls.ID, tls.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
		libp2p.Routing(routing),
	}
	if cfg.Gater != nil {
		opts = append(opts, libp2p.ConnectionGater(cfg.Gater))
	}
	if cfg.EnableNATPortMap {
		opts = append(opts, libp2p.NATPortMap())
	}
	if cfg.EnableHolePunching {
		opts = append(opts, libp2p.EnableHolePunching())
	}
	if cfg.EnableRelayClient {
		opts = append(opts, libp2p.EnableRelay(), libp2p.EnableAutoRelayWithStaticRelays(bootstrap, autorelay.WithMinCandidates(1)))
	} else {
		opts = append(opts, libp2p.DisableRelay())
	}
	if cfg.Helper {
		opts = append(opts, libp2p.EnableRelay(), libp2p.EnableRelayService())
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("libp2p host: %w", err)
	}
	return h, nil
}

// Host returns the libp2p host.
func (n *Network) Host() host.Host { return n.host }

// DHT returns the Kademlia DHT.
func (n *Network) DHT() *dht.IpfsDHT { return n.dht }

// Start bootstraps the DHT and dials the bootstrap peers in the background
// (a bootstrap peer that does not answer is logged, not fatal).
func (n *Network) Start(ctx context.Context) error {
	if err := n.dht.Bootstrap(ctx); err != nil {
		return fmt.Errorf("DHT bootstrap: %w", err)
	}
	for _, ai := range n.bootstrap {
		n.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := n.host.Connect(cctx, ai); err != nil {
				n.log.Warn("bootstrap peer unreachable", "bootstrap", ai.ID, "err", err)
			}
		}()
	}
	return nil
}

// Close stops the DHT, mDNS and the host, and waits for bootstrap dials.
// It is idempotent.
func (n *Network) Close() error {
	n.closeOnce.Do(func() {
		var errs []error
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
