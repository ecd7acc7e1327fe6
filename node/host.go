package node

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/libp2p/go-libp2p"
	dht "github.com/libp2p/go-libp2p-kad-dht"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
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
)

// DHTProtocolPrefix keeps Backchannel's DHT apart from the public IPFS one.
const DHTProtocolPrefix = "/backchannel"

// p2p is the libp2p side of a node: host and DHT.
type p2p struct {
	host host.Host
	dht  *dht.IpfsDHT
	mdns mdns.Service
}

func parseAddrInfos(addrs []string) ([]peer.AddrInfo, error) {
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

func allLoopback(addrs []string) bool {
	for _, s := range addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil || !isLoopback(a) {
			return false
		}
	}
	return true
}

func newP2P(cfg *Config, key lcrypto.PrivKey) (*p2p, error) {
	bootstrap, err := parseAddrInfos(cfg.Bootstrap)
	if err != nil {
		return nil, err
	}
	cm, err := connmgr.NewConnManager(64, 256, connmgr.WithGracePeriod(time.Minute))
	if err != nil {
		return nil, err
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(rcmgr.DefaultLimits.AutoScale()))
	if err != nil {
		return nil, err
	}
	n := &p2p{}
	opts := []libp2p.Option{
		libp2p.Identity(key),
		libp2p.ListenAddrStrings(cfg.ListenAddrs...),
		libp2p.Transport(tcp.NewTCPTransport),
		libp2p.Transport(quic.NewTransport),
		libp2p.Security(tls.ID, tls.New),
		libp2p.Security(noise.ID, noise.New),
		libp2p.ConnectionManager(cm),
		libp2p.ResourceManager(rm),
		libp2p.Routing(func(h host.Host) (routing.PeerRouting, error) {
			d, err := dht.New(h,
				dht.ProtocolPrefix(DHTProtocolPrefix),
				dht.Mode(dht.ModeServer),
				dht.BootstrapPeers(bootstrap...),
			)
			n.dht = d
			return d, err
		}),
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
	n.host = h
	if cfg.EnableMDNS {
		n.mdns = mdns.NewMdnsService(h, "backchannel", mdnsNotifee{h: h, log: cfg.Logger})
	}
	return n, nil
}

func (n *p2p) close() error {
	var firstErr error
	if n.mdns != nil {
		firstErr = n.mdns.Close()
	}
	if n.dht != nil {
		if err := n.dht.Close(); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if err := n.host.Close(); err != nil && firstErr == nil {
		firstErr = err
	}
	return firstErr
}

type mdnsNotifee struct {
	h   host.Host
	log *slog.Logger
}

// HandlePeerFound connects to peers found on the local network (opt-in).
func (m mdnsNotifee) HandlePeerFound(ai peer.AddrInfo) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.h.Connect(ctx, ai); err != nil {
		m.log.Debug("mdns connect failed", "peer", ai.ID, "err", err)
	}
}
