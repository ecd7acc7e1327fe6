package node

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/node/internal/msgid"
	"github.com/backchannel/backchannel/node/internal/ratelog"
	"github.com/backchannel/backchannel/node/mailbox"
	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/node/peerbook"
	"github.com/backchannel/backchannel/node/requests"
	"github.com/backchannel/backchannel/node/rooms"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// Protocol IDs.
const (
	ProtocolPreKeys = dm.ProtocolPreKeys
	ProtocolDM      = dm.ProtocolDM
)

// Node is a running Backchannel node.
type Node struct {
	cfg   Config
	log   *slog.Logger
	store *storage.Store
	id    identity.Identity
	net   *p2p.Network
	bus   *event.Bus
	ps    *pubsub.PubSub
	// afterSend runs a send's follow-up checks, coalesced per peer.
	afterSend coalescer
	// private keeps group topics among each epoch's members.
	private *pubsub.Private
	rooms   *rooms.Service
	groups  *groups.Service
	book    *peerbook.Book // where peers were: dialled again at start

	// The services: 1:1 chats, contacts and the requests inbox.
	contacts *contacts.Service
	dm       *dm.Service
	requests *requests.Service
	mailbox  *mailbox.Service

	// env is what the node hands its services; life, like the fields
	// above, is one of its parts, for the node's own code.
	env  env.Env
	life *env.Lifetime

	startOnce sync.Once
	closeOnce sync.Once
	closeErr  error
}

// New opens the node's store (creating its identity on first use) and its
// libp2p host. Start makes it serve.
func New(cfg Config) (*Node, error) {
	if err := cfg.applyDefaults(); err != nil {
		return nil, err
	}
	// Peers can make the node warn at will (malformed streams and
	// requests): a kind of warning is written at most every 10 s.
	cfg.Logger = ratelog.Wrap(cfg.Logger)
	if cfg.Gater == nil && p2p.AllLoopback(cfg.ListenAddrs) {
		cfg.Gater = &LoopbackGater{}
	}
	st, err := storage.Open(storage.Config{Dir: filepath.Join(cfg.Home, "store"), NoSync: cfg.NoSync, EncryptionKey: cfg.StoreKey, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("node: %w", err)
	}
	id, err := env.LoadOrCreateIdentity(st)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	bootstrap, err := p2p.ParseAddrInfos(cfg.Bootstrap)
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	book := peerbook.New(peerbook.Config{Store: st, Log: cfg.Logger, Bootstrap: bootstrap})
	net, err := p2p.New(p2p.Config{
		Key:                id.Signing().Libp2p(),
		ListenAddrs:        cfg.ListenAddrs,
		Bootstrap:          bootstrap,
		Remembered:         func() []peer.AddrInfo { return book.Remembered() },
		Relays:             func() []peer.AddrInfo { return book.Relays() },
		PublicRanges:       cfg.PublicRanges,
		EnableNATPortMap:   cfg.EnableNATPortMap,
		EnableRelayClient:  cfg.EnableRelayClient,
		EnableHolePunching: cfg.EnableHolePunching,
		EnableMDNS:         cfg.EnableMDNS,
		Helper:             cfg.Helper,
		Gater:              cfg.Gater,
		NewHost:            cfg.NewHost,
		BandwidthReporter:  cfg.BandwidthReporter,
		Logger:             cfg.Logger,
	})
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("node: %w", err)
	}
	life := env.NewLifetime()
	n := &Node{
		cfg:   cfg,
		log:   cfg.Logger.With("peer", net.Host().ID().ShortString()),
		store: st,
		id:    id,
		net:   net,
		bus:   event.NewBus(),
		life:  life,
	}
	n.env = env.Env{Store: n.store, Identity: n.id, Net: n.net, Bus: n.bus, Log: n.log, Life: n.life, Clock: &env.SendClock{}}
	n.book = book
	n.contacts = contacts.New(n.env)
	n.mailbox = n.newMailbox()
	n.contacts.SetInviteMailboxes(n.mailbox.InviteList)
	n.dm = dm.New(n.env, dm.Config{
		Contacts: n.contacts,
		Gate: requests.NewAdmission(requests.AdmissionConfig{
			Limits: cfg.Limits, Self: id.Public().Key, StampDifficulty: cfg.StampDifficulty,
		}),
		Groups:          n.groupControl,
		Mailboxes:       n.mailbox,
		DepositAfter:    cfg.MailboxDepositAfter,
		FailAfter:       cfg.OutboxFailAfter,
		MaxTextBytes:    cfg.Limits.MaxTextBytes,
		StampDifficulty: cfg.StampDifficulty,
		RetryBase:       cfg.RetryBase,
		RetryMax:        cfg.RetryMax,
	})
	n.requests = requests.New(n.env, requests.Config{
		Contacts: n.contacts, Sender: n.dm, RequestMessagesPerSender: cfg.Limits.RequestMessagesPerSender,
	})
	n.private = pubsub.NewPrivate(group.TopicPrefix)
	n.groups = n.newGroups()
	// GossipSub is made here, not at Start, so that every service exists
	// from New on: a call before Start (or after a failed one) gets an
	// error from the service, never a nil pointer.
	if n.ps, err = pubsub.New(life.Context(), pubsub.Config{
		Host:      net.Host(),
		Logger:    n.log,
		Heartbeat: cfg.PubSubHeartbeat,
		MessageID: msgid.NewCache().ID,
		Private:   n.private,
		Scoring:   true,
		Tracer:    cfg.PubSubTracer,
	}); err != nil {
		life.Cancel()
		net.Close()
		st.Close()
		return nil, fmt.Errorf("node: pubsub: %w", err)
	}
	n.rooms = rooms.New(rooms.Config{
		Env:          n.env,
		PubSub:       n.ps,
		SyncInterval: cfg.RoomSyncInterval,
		HistoryAge:   cfg.RoomHistoryAge,
		SyncRate:     cfg.Limits.SyncRate,
		SyncBurst:    cfg.Limits.SyncBurst,

		BallotFrom:    cfg.RoomBallotFrom,
		TallyInterval: cfg.RoomTallyInterval,

		ReprovideInterval: cfg.ReprovideInterval,
		ProfileName:       n.contacts.ProfileName,
	})
	return n, nil
}

// Start serves the node's protocols, bootstraps the DHT and starts the outbox.
func (n *Node) Start(ctx context.Context) error {
	var err error
	n.startOnce.Do(func() {
		h := n.net.Host()
		n.dm.Handlers()
		if err = n.mailbox.Handlers(); err != nil {
			err = fmt.Errorf("node: %w", err)
			return
		}
		if err = n.rooms.Start(ctx); err != nil {
			err = fmt.Errorf("node: %w", err)
			return
		}
		if err = n.groups.Start(n.ps); err != nil {
			return
		}
		if err = n.contacts.LoadAddrs(); err != nil {
			err = fmt.Errorf("node: %w", err)
			return
		}
		if err = n.book.Load(n.net); err != nil {
			err = fmt.Errorf("node: %w", err)
			return
		}
		if err = n.net.Start(ctx); err != nil {
			err = fmt.Errorf("node: %w", err)
			return
		}
		n.dm.Start()
		n.mailbox.Start()
		if err = n.book.Start(n.life.Context(), n.wantedPeers); err != nil {
			err = fmt.Errorf("node: %w", err)
			return
		}
		n.log.Info("node started", "peer_id", h.ID().String(), "addrs", h.Addrs())
	})
	return err
}

// Close stops the node and waits for everything it started. It is idempotent.
func (n *Node) Close() error {
	n.closeOnce.Do(func() {
		n.life.Cancel()
		n.book.Close()   // writes what it learnt
		n.groups.Close() // leaves the groups' topics, waits for their goroutines
		n.mailbox.Close()
		n.dm.Close()
		roomsErr := n.rooms.Close() // leaves the rooms' topics, waits for their goroutines
		psErr := n.ps.Close()
		n.life.ResetStreams()
		netErr := n.net.Close()
		n.life.Wait()
		n.bus.CloseAll()
		n.closeErr = errors.Join(roomsErr, psErr, netErr, n.store.Close())
	})
	return n.closeErr
}

// ID returns the node's peer ID.
func (n *Node) ID() peer.ID { return n.net.Host().ID() }

// Addrs returns the addresses the node listens on, with its peer ID.
func (n *Node) Addrs() []ma.Multiaddr {
	var out []ma.Multiaddr
	suffix, _ := ma.NewComponent("p2p", n.ID().String())
	for _, a := range n.net.Host().Addrs() {
		out = append(out, a.Encapsulate(suffix.Multiaddr()))
	}
	return out
}

// Subscribe returns a channel of events and a function that ends the
// subscription. A subscriber that falls behind misses events.
func (n *Node) Subscribe() (<-chan Event, func()) { return n.bus.Subscribe() }

// Gater returns the node's connection gater, or nil.
func (n *Node) Gater() *LoopbackGater { return n.cfg.Gater }
