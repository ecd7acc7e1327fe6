package peerbook

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/peerstore"
	"github.com/libp2p/go-libp2p/core/protocol"
	"github.com/libp2p/go-libp2p/core/record"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/storage"
)

// Protocols that mark a peer as a relay or a DHT server.
const (
	relayHop  = protocol.ID("/libp2p/circuit/relay/0.2.0/hop")
	dhtServer = protocol.ID(p2p.DHTProtocolPrefix + "/kad/1.0.0")
)

// Bounds on what the book keeps.
const (
	maxAddrs       = 16
	maxAddrBytes   = 256
	maxRecordBytes = 4096
)

// Config configures a Book.
type Config struct {
	// Store keeps the book.
	Store *storage.Store
	// Log receives what went wrong; nil discards it.
	Log *slog.Logger
	// Bootstrap peers given on the command line: remembered for good.
	Bootstrap []peer.AddrInfo
	// MaxPeers bounds the book (512 when zero).
	MaxPeers int
	// DialRecent is how many recently seen peers the node dials at start
	// besides the wanted ones (16 when zero).
	DialRecent int
	// FlushEvery is how often what was learnt is written (10 s when zero);
	// Close writes the rest.
	FlushEvery time.Duration
}

// Book remembers peers; see the package doc.
type Book struct {
	cfg   Config
	store *storage.Store
	log   *slog.Logger
	net   *p2p.Network // set by Load
	// wanted returns the peers to dial at start, in order, those with
	// pending work first; they are never forgotten. Set by Start.
	wanted func() ([]peer.ID, error)
	sub    event.Subscription // made by Load, read by Start's loop

	mu    sync.Mutex
	peers map[peer.ID]*storage.KnownPeer
	dirty map[peer.ID]bool

	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
}

// New returns an empty book; Load fills it from the store. Remembered and
// Relays may be called from then on.
func New(cfg Config) *Book {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxPeers == 0 {
		cfg.MaxPeers = 512
	}
	if cfg.DialRecent == 0 {
		cfg.DialRecent = 16
	}
	if cfg.FlushEvery == 0 {
		cfg.FlushEvery = 10 * time.Second
	}
	return &Book{cfg: cfg, store: cfg.Store, log: cfg.Log, peers: map[peer.ID]*storage.KnownPeer{}, dirty: map[peer.ID]bool{}}
}

// Load reads the remembered peers, remembers the configured bootstrap
// peers, and gives net's peerstore every address and signed record.
func (b *Book) Load(net *p2p.Network) error {
	b.net = net
	// Subscribe before the network starts: identifications missed are not
	// repeated.
	sub, err := net.Host().EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return fmt.Errorf("peerbook: %w", err)
	}
	b.sub = sub
	var known []storage.KnownPeer
	err = b.store.Update(func(tx *storage.Txn) error {
		for _, ai := range b.cfg.Bootstrap {
			kp, err := tx.KnownPeer(ai.ID)
			if err != nil {
				kp = storage.KnownPeer{Peer: ai.ID}
			}
			kp.Bootstrap = true
			kp.Addrs = mergeAddrs(kp.Addrs, ai.Addrs)
			if err := tx.PutKnownPeer(kp); err != nil {
				return err
			}
		}
		var err error
		known, err = tx.KnownPeers()
		return err
	})
	if err != nil {
		return fmt.Errorf("peerbook: load: %w", err)
	}
	ps := b.net.Host().Peerstore()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := range known {
		kp := &known[i]
		b.peers[kp.Peer] = kp
		ttl := peerstore.RecentlyConnectedAddrTTL
		if kp.Bootstrap {
			ttl = peerstore.PermanentAddrTTL
		}
		if addrs := parseAddrs(kp.Addrs); len(addrs) > 0 {
			ps.AddAddrs(kp.Peer, addrs, ttl)
		}
		if len(kp.SignedRecord) > 0 {
			if env, _, err := record.ConsumeEnvelope(kp.SignedRecord, peer.PeerRecordEnvelopeDomain); err == nil {
				if cab, ok := peerstore.GetCertifiedAddrBook(ps); ok {
					_, _ = cab.ConsumePeerRecord(env, ttl)
				}
			}
		}
	}
	return nil
}

// Start records what identify learns and dials the wanted peers, then
// recently seen ones; wanted lists the first in order, those with pending
// work first.
func (b *Book) Start(ctx context.Context, wanted func() ([]peer.ID, error)) error {
	if b.sub == nil {
		return fmt.Errorf("peerbook: Start before Load")
	}
	b.wanted = wanted
	sub := b.sub
	ctx, b.cancel = context.WithCancel(ctx)
	b.wg.Add(3)
	go func() {
		defer b.wg.Done()
		defer sub.Close()
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-sub.Out():
				if !ok {
					return
				}
				if ev, ok := e.(event.EvtPeerIdentificationCompleted); ok {
					b.learn(ev)
				}
			}
		}
	}()
	go func() {
		defer b.wg.Done()
		t := time.NewTicker(b.cfg.FlushEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				b.flush()
			}
		}
	}()
	go func() {
		defer b.wg.Done()
		b.reconnect(ctx)
	}()
	return nil
}

// Close stops the book and writes what it learnt. It is idempotent.
func (b *Book) Close() {
	b.closeOnce.Do(func() {
		if b.cancel != nil {
			b.cancel()
		} else if b.sub != nil {
			b.sub.Close() // loaded, never started
		}
		b.wg.Wait()
		b.flush()
	})
}

// learn records what identify says of a peer.
func (b *Book) learn(ev event.EvtPeerIdentificationCompleted) {
	if ev.Peer == b.net.Host().ID() {
		return
	}
	addrs := make([]string, 0, len(ev.ListenAddrs))
	for _, a := range ev.ListenAddrs {
		if s := a.String(); len(s) <= maxAddrBytes && len(addrs) < maxAddrs {
			addrs = append(addrs, s)
		}
	}
	var rec []byte
	if ev.SignedPeerRecord != nil {
		if raw, err := ev.SignedPeerRecord.Marshal(); err == nil && len(raw) <= maxRecordBytes {
			rec = raw
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	kp, ok := b.peers[ev.Peer]
	if !ok && len(addrs) == 0 {
		// It listens nowhere (a throwaway identity that deposited in our
		// mailbox, a client): there is nowhere to dial it again.
		return
	}
	if !ok {
		kp = &storage.KnownPeer{Peer: ev.Peer}
		b.peers[ev.Peer] = kp
	}
	if len(addrs) > 0 {
		kp.Addrs = addrs
		kp.SignedRecord = rec
	}
	kp.LastSeen = time.Now().UTC()
	kp.Relay = slices.Contains(ev.Protocols, relayHop)
	kp.DHTServer = slices.Contains(ev.Protocols, dhtServer)
	b.dirty[ev.Peer] = true
}

// flush writes the peers learnt since the last flush and forgets the least
// recently seen ones past MaxPeers.
func (b *Book) flush() {
	b.mu.Lock()
	var put []storage.KnownPeer
	for p := range b.dirty {
		if kp, ok := b.peers[p]; ok {
			put = append(put, *kp)
		}
	}
	clear(b.dirty)
	over := len(b.peers) - b.cfg.MaxPeers
	b.mu.Unlock()
	var drop []peer.ID
	if over > 0 {
		drop = b.evict(over)
	}
	if len(put) == 0 && len(drop) == 0 {
		return
	}
	err := b.store.Update(func(tx *storage.Txn) error {
		for _, kp := range put {
			if err := tx.PutKnownPeer(kp); err != nil {
				return err
			}
		}
		for _, p := range drop {
			if err := tx.DeleteKnownPeer(p); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.log.Warn("peerbook: not written", "err", err)
	}
}

// evict forgets n peers, the least recently seen first, sparing bootstrap
// peers and wanted ones, and returns them.
func (b *Book) evict(n int) []peer.ID {
	keep := map[peer.ID]bool{}
	if b.wanted != nil {
		wanted, _ := b.wanted()
		for _, p := range wanted {
			keep[p] = true
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	var cands []*storage.KnownPeer
	for p, kp := range b.peers {
		if !kp.Bootstrap && !keep[p] {
			cands = append(cands, kp)
		}
	}
	slices.SortFunc(cands, func(x, y *storage.KnownPeer) int { return x.LastSeen.Compare(y.LastSeen) })
	var out []peer.ID
	for _, kp := range cands[:min(n, len(cands))] {
		delete(b.peers, kp.Peer)
		delete(b.dirty, kp.Peer)
		out = append(out, kp.Peer)
	}
	return out
}

// Remembered returns, for the DHT to bootstrap from, every bootstrap peer
// the book keeps and up to DialRecent other DHT servers, the most recently
// seen first.
func (b *Book) Remembered() []peer.AddrInfo {
	boot := b.pick(func(kp *storage.KnownPeer) bool { return kp.Bootstrap }, b.cfg.MaxPeers)
	return append(boot, b.pick(func(kp *storage.KnownPeer) bool { return kp.DHTServer && !kp.Bootstrap }, b.cfg.DialRecent)...)
}

// Relays returns the relays (helpers) the book knows, the most recently
// seen first.
func (b *Book) Relays() []peer.AddrInfo {
	return b.pick(func(kp *storage.KnownPeer) bool { return kp.Relay }, 8)
}

// pick returns up to n peers that keep accepts, the most recent first.
func (b *Book) pick(keep func(*storage.KnownPeer) bool, n int) []peer.AddrInfo {
	b.mu.Lock()
	var kps []storage.KnownPeer
	for _, kp := range b.peers {
		if keep(kp) {
			kps = append(kps, *kp)
		}
	}
	b.mu.Unlock()
	slices.SortFunc(kps, func(x, y storage.KnownPeer) int { return y.LastSeen.Compare(x.LastSeen) })
	var out []peer.AddrInfo
	for _, kp := range kps[:min(n, len(kps))] {
		out = append(out, peer.AddrInfo{ID: kp.Peer, Addrs: parseAddrs(kp.Addrs)})
	}
	return out
}

// RememberRelay records p, with addrs, as a relay: a helper named in an
// invite the user took.
func (b *Book) RememberRelay(p peer.ID, addrs []ma.Multiaddr) {
	if p == b.net.Host().ID() {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	kp, ok := b.peers[p]
	if !ok {
		kp = &storage.KnownPeer{Peer: p, LastSeen: time.Now().UTC()}
		b.peers[p] = kp
	}
	kp.Relay = true
	var strs []string
	for _, a := range addrs {
		strs = append(strs, a.String())
	}
	kp.Addrs = mergeStrings(kp.Addrs, strs)
	b.dirty[p] = true
}

func parseAddrs(ss []string) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, s := range ss {
		if a, err := ma.NewMultiaddr(s); err == nil {
			out = append(out, a)
		}
	}
	return out
}

func mergeAddrs(have []string, add []ma.Multiaddr) []string {
	var strs []string
	for _, a := range add {
		strs = append(strs, a.String())
	}
	return mergeStrings(have, strs)
}

// mergeStrings adds the new entries of add to have, newest first, at most
// maxAddrs in all.
func mergeStrings(have, add []string) []string {
	out := slices.Clone(add)
	for _, s := range have {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	if len(out) > maxAddrs {
		out = out[:maxAddrs]
	}
	return out
}
