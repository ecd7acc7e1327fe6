package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// Protocol IDs.
const (
	ProtocolPreKeys = "/backchannel/prekeys/1.0.0"
	ProtocolDM      = "/backchannel/dm/1.0.0"
)

// Node is a running Backchannel node.
type Node struct {
	cfg    Config
	log    *slog.Logger
	store  *storage.Store
	id     identity.Identity
	p2p    *p2p
	bus    *bus
	gate   *admission
	peers  *peerTable
	out    *outbox
	sendq  chan *sendRequest
	ps     *pubsub.PubSub
	rooms  *rooms
	groups *groups

	ctx       context.Context
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	streams   sync.Map // network.Stream -> struct{}: reset on Close
	startOnce sync.Once
	started   atomic.Bool
	closeOnce sync.Once
	closeErr  error
}

// New opens the node's store (creating its identity on first use) and its
// libp2p host. Start makes it serve.
func New(cfg Config) (*Node, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	if cfg.Gater == nil && allLoopback(cfg.ListenAddrs) {
		cfg.Gater = &LoopbackGater{}
	}
	st, err := storage.Open(storage.Config{Dir: filepath.Join(cfg.Home, "store"), NoSync: cfg.NoSync, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	id, err := loadOrCreateIdentity(st)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	net, err := newP2P(&cfg, id.Signing().Libp2p())
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg:    cfg,
		log:    cfg.Logger.With("peer", net.host.ID().ShortString()),
		store:  st,
		id:     id,
		p2p:    net,
		bus:    newBus(),
		gate:   newAdmission(cfg.Limits),
		peers:  newPeerTable(),
		sendq:  make(chan *sendRequest, maxSendGroup),
		rooms:  newRooms(),
		groups: newGroups(),
		ctx:    ctx,
		cancel: cancel,
	}
	n.out = newOutbox(n)
	return n, nil
}

// Start serves the node's protocols, bootstraps the DHT and starts the outbox.
func (n *Node) Start(ctx context.Context) error {
	var err error
	n.startOnce.Do(func() {
		h := n.p2p.host
		h.SetStreamHandler(ProtocolDM, n.trackStream(n.handleDM))
		h.SetStreamHandler(ProtocolPreKeys, n.trackStream(n.handlePreKeys))
		h.SetStreamHandler(ProtocolSync, n.trackStream(n.handleSync))
		if n.ps, err = pubsub.New(n.ctx, pubsub.Config{
			Host:      h,
			Logger:    n.log,
			Heartbeat: n.cfg.PubSubHeartbeat,
			MessageID: newMsgIDCache().id,
			Scoring:   true,
		}); err != nil {
			err = fmt.Errorf("node: pubsub: %w", err)
			return
		}
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			n.runRoomWriter()
		}()
		if err = n.rejoinRooms(ctx); err != nil {
			return
		}
		if err = n.rejoinGroups(); err != nil {
			return
		}
		h.Network().Notify(&network.NotifyBundle{ConnectedF: func(_ network.Network, c network.Conn) {
			n.out.peerConnected(c.RemotePeer())
		}})
		if err = n.loadContactAddrs(); err != nil {
			return
		}
		if err = n.p2p.dht.Bootstrap(ctx); err != nil {
			err = fmt.Errorf("node: DHT bootstrap: %w", err)
			return
		}
		n.connectBootstrap(ctx)
		n.wg.Add(2)
		go func() {
			defer n.wg.Done()
			n.out.run(n.ctx)
		}()
		go func() {
			defer n.wg.Done()
			n.runSender(n.ctx)
		}()
		n.started.Store(true)
		n.log.Info("node started", "peer_id", h.ID().String(), "addrs", h.Addrs())
	})
	return err
}

func (n *Node) connectBootstrap(ctx context.Context) {
	infos, _ := parseAddrInfos(n.cfg.Bootstrap) // validated in New
	for _, ai := range infos {
		n.p2p.host.Peerstore().AddAddrs(ai.ID, ai.Addrs, peerstore.PermanentAddrTTL)
		n.wg.Add(1)
		go func() {
			defer n.wg.Done()
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := n.p2p.host.Connect(cctx, ai); err != nil {
				n.log.Warn("bootstrap peer unreachable", "bootstrap", ai.ID, "err", err)
			}
		}()
	}
}

// trackStream wraps a stream handler so that Close can reset open streams and
// wait for the handler to return.
func (n *Node) trackStream(h func(network.Stream)) network.StreamHandler {
	return func(s network.Stream) {
		if n.ctx.Err() != nil {
			s.Reset()
			return
		}
		n.wg.Add(1)
		defer n.wg.Done()
		n.streams.Store(s, struct{}{})
		defer n.streams.Delete(s)
		h(s)
	}
}

// Close stops the node and waits for everything it started. It is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.cancel()
		h := n.p2p.host
		h.RemoveStreamHandler(ProtocolDM)
		h.RemoveStreamHandler(ProtocolPreKeys)
		h.RemoveStreamHandler(ProtocolSync)
		var psErr error
		if n.ps != nil {
			psErr = n.ps.Close() // ends every room's and group's reader
		}
		n.streams.Range(func(k, _ any) bool {
			k.(network.Stream).Reset()
			return true
		})
		netErr := n.p2p.close()
		n.wg.Wait()
		n.bus.closeAll()
		n.closeErr = errors.Join(psErr, netErr, n.store.Close())
	})
	return n.closeErr
}

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.p2p.host.ID() }

// Addrs returns the addresses the node listens on, with its peer ID.
func (n *Node) Addrs() []ma.Multiaddr {
	var out []ma.Multiaddr
	suffix, _ := ma.NewComponent("p2p", n.ID().String())
	for _, a := range n.p2p.host.Addrs() {
		out = append(out, a.Encapsulate(suffix.Multiaddr()))
	}
	return out
}

// Subscribe returns a channel of events and a function that ends the
// subscription. A subscriber that falls behind misses events.
func (n *Node) Subscribe() (<-chan Event, func()) { return n.bus.subscribe() }

// Gater returns the node's connection gater, or nil.
func (n *Node) Gater() *LoopbackGater { return n.cfg.Gater }
