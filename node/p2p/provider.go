package p2p

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
)

// DefaultReprovideInterval is how often a Provider announces its keys
// again once they are announced. DHT peers drop a provider record 48 h
// after storing it, and the peers closest to a key change as peers come
// and go: a quarter of the record's life leaves room for a few rounds to
// fail.
const DefaultReprovideInterval = 12 * time.Hour

const (
	// providerPoll is how often a Provider looks for a connected peer in
	// the DHT's routing table.
	providerPoll = 250 * time.Millisecond
	// retryMin and retryMax bound the backoff after failed announcements.
	retryMin, retryMax = time.Second, time.Minute
	// provideTimeout bounds the announcement of one key.
	provideTimeout = time.Minute
)

// Provider keeps keys announced in the DHT (provider records naming this
// node) for as long as it runs: whatever a node lets others find it by,
// such as a room it is in, under the room's ID and its name.
type Provider struct {
	Keys []cid.Cid
	// Reprovide is how often the keys are announced again after an
	// announcement succeeded; DefaultReprovideInterval when zero.
	Reprovide time.Duration
	// Log gets a line for each failed announcement; nil discards them.
	Log *slog.Logger
}

// Run announces the keys through n's DHT, in the caller's goroutine,
// until ctx ends: as soon as a peer of the DHT's routing table is
// connected; after a failure, again after a backoff (1 s doubling to
// 1 min, jittered); after a success, again every Reprovide; and again as
// soon as there is a connected peer after there was none (the node lost
// every peer, or slept, and found peers again), whatever was due.
//
// It looks at the routing table every 250 ms rather than react to it:
// kad-dht adds a peer to its table only after a FIND_NODE check some time
// after connecting, and the table's hooks (PeerAdded, PeerRemoved) are
// the DHT's own. A look costs a read of the table and, nearly always, one
// connectedness check.
func (p Provider) Run(ctx context.Context, n *Network) {
	p.run(ctx, n.hasDHTPeer, func(ctx context.Context, key cid.Cid) error {
		return n.dht.Provide(ctx, key, true)
	})
}

// run is Run over a routing table seen as hasPeer and a DHT's provide.
func (p Provider) run(ctx context.Context, hasPeer func() bool, provide func(context.Context, cid.Cid) error) {
	every := cmp.Or(p.Reprovide, DefaultReprovideInterval)
	log := cmp.Or(p.Log, slog.New(slog.DiscardHandler))
	tick := time.NewTicker(providerPoll)
	defer tick.Stop()
	var due time.Time // the next announcement; zero: as soon as there is a peer
	failures := 0
	for {
		if !hasPeer() {
			due, failures = time.Time{}, 0
		} else if !time.Now().Before(due) {
			if err := p.provideAll(ctx, provide); err != nil {
				if ctx.Err() != nil {
					return
				}
				failures++
				wait := Backoff(retryMin, retryMax, failures)
				log.Debug("not announced in the DHT", "err", err, "retry_in", wait)
				due = time.Now().Add(wait)
			} else {
				failures = 0
				due = time.Now().Add(every)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// provideAll announces every key, each within provideTimeout.
func (p Provider) provideAll(ctx context.Context, provide func(context.Context, cid.Cid) error) error {
	for _, key := range p.Keys {
		kctx, cancel := context.WithTimeout(ctx, provideTimeout)
		err := provide(kctx, key)
		cancel()
		if err != nil {
			return fmt.Errorf("key %s: %w", key, err)
		}
	}
	return nil
}

// hasDHTPeer reports whether a peer of the DHT's routing table is
// connected. The table's size alone would not do: kad-dht keeps a peer
// whose connection is gone until a refresh (every 10 min) or a failed
// query evicts it, so a node that lost every peer would go on counting
// them.
func (n *Network) hasDHTPeer() bool {
	for _, p := range n.dht.RoutingTable().ListPeers() {
		if n.host.Network().Connectedness(p) == network.Connected {
			return true
		}
	}
	return false
}
