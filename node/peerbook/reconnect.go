package peerbook

import (
	"context"
	"sync"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

// dialParallel bounds the dials the book runs at once at start.
const dialParallel = 8

// reconnect dials, at start, the wanted peers (those with pending work
// first, as Wanted orders them) and then up to DialRecent recently seen
// peers besides the bootstrap peers and DHT servers the network dials. A
// wanted peer that does not answer is looked up in the DHT (its addresses
// may have changed); a recent one is simply skipped. The outbox keeps
// retrying its own peers with backoff, and flushes as soon as one
// connects, whoever dialled.
func (b *Book) reconnect(ctx context.Context) {
	var wanted []peer.ID
	if b.wanted != nil {
		var err error
		if wanted, err = b.wanted(); err != nil {
			b.log.Warn("peerbook: wanted peers", "err", err)
		}
	}
	b.dialAll(ctx, wanted, func(ctx context.Context, p peer.ID) error { return b.net.Connect(ctx, p) })
	if ctx.Err() != nil {
		return
	}
	// Skip the wanted peers, just dialled, and those the network dials as
	// bootstrap peers at its start (Remembered).
	seen := map[peer.ID]bool{}
	for _, p := range wanted {
		seen[p] = true
	}
	for _, ai := range b.Remembered() {
		seen[ai.ID] = true
	}
	var recent []peer.ID
	for _, ai := range b.pick(func(kp *storage.KnownPeer) bool { return !seen[kp.Peer] }, b.cfg.DialRecent) {
		recent = append(recent, ai.ID)
	}
	h := b.net.Host()
	b.dialAll(ctx, recent, func(ctx context.Context, p peer.ID) error { return h.Connect(ctx, peer.AddrInfo{ID: p}) })
}

// dialAll dials ps, dialParallel at a time, in order, skipping connected
// peers, and returns when all have been tried.
func (b *Book) dialAll(ctx context.Context, ps []peer.ID, dial func(context.Context, peer.ID) error) {
	h := b.net.Host()
	sem := make(chan struct{}, dialParallel)
	var wg sync.WaitGroup
	for _, p := range ps {
		if p == h.ID() || h.Network().Connectedness(p) == network.Connected {
			continue
		}
		select {
		case <-ctx.Done():
		case sem <- struct{}{}:
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				if err := dial(ctx, p); err != nil {
					b.log.Debug("peerbook: not reached at start", "peer", p, "err", err)
				}
			}()
		}
	}
	wg.Wait()
}
