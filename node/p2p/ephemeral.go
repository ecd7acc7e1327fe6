package p2p

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p"
	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"
)

// ErrNoEphemeral means the network cannot make a throwaway host: a test's
// host maker (a mocknet) stands in for the transports. Callers use the
// node's own host instead.
var ErrNoEphemeral = errors.New("no throwaway host on this network")

// Ephemeral dials p from a throwaway host: a fresh identity that listens
// nowhere, on the node's transports and behind its gater, connected to p
// at the addresses the node knows for it. Whoever p is learns nothing of
// who dialled but the address the connection comes from. The caller closes
// the host when done. A mailbox deposit uses one, so that the mailbox
// cannot tell which of the recipient's contacts deposited.
func (n *Network) Ephemeral(ctx context.Context, p peer.ID) (host.Host, error) {
	if n.cfg.NewHost != nil {
		return nil, ErrNoEphemeral
	}
	key, _, err := lcrypto.GenerateEd25519Key(nil)
	if err != nil {
		return nil, err
	}
	rm, err := rcmgr.NewResourceManager(rcmgr.NewFixedLimiter(rcmgr.DefaultLimits.AutoScale()))
	if err != nil {
		return nil, err
	}
	opts := append(transportOptions(),
		libp2p.Identity(key),
		libp2p.NoListenAddrs,
		libp2p.ResourceManager(rm),
		libp2p.DisableMetrics(),
	)
	if AllLoopback(n.cfg.ListenAddrs) {
		opts = append(opts, libp2p.DisableRelay())
	} else {
		opts = append(opts, libp2p.EnableRelay()) // to reach a mailbox through its relay
	}
	if n.cfg.Gater != nil {
		opts = append(opts, libp2p.ConnectionGater(n.cfg.Gater))
	}
	h, err := libp2p.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("throwaway host: %w", err)
	}
	addrs := n.host.Peerstore().Addrs(p)
	if len(addrs) == 0 {
		h.Close()
		return nil, fmt.Errorf("peer %s: no address known", p.ShortString())
	}
	h.Peerstore().AddAddrs(p, addrs, peerstore.TempAddrTTL)
	ctx, cancel := context.WithTimeout(ctx, dialTimeout)
	defer cancel()
	if err := h.Connect(ctx, peer.AddrInfo{ID: p}); err != nil {
		h.Close()
		return nil, fmt.Errorf("peer %s unreachable from a throwaway host: %w", p.ShortString(), err)
	}
	return h, nil
}
