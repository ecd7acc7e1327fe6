package p2p

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/protocol/circuitv2/client"
	ma "github.com/multiformats/go-multiaddr"
)

// Relay reservations. A node that is not publicly reachable reserves a
// slot on up to maxReservations relays it knows (its helpers, from config,
// invites and contacts) with go-libp2p's circuit relay v2 client, renews
// each before it expires, and advertises <relay address>/p2p/<relay>/p2p-circuit
// among its own addresses, so that invites and identify carry a way in.
//
// go-libp2p's AutoRelay does the same, but builds the advertised addresses
// only from relay addresses it calls public, so a helper on a LAN, or in a
// test lab, gave a node no relay address at all; the reservation itself is
// the same go-libp2p call.
const (
	maxReservations = 2
	// reserveEvery is how often the loop looks at its reservations.
	reserveEvery = 2 * time.Second
	// renewBefore renews a reservation this long before it expires.
	renewBefore = 5 * time.Minute
	// relayBackoffMax bounds the wait before trying a failing relay again.
	relayBackoffMax = time.Minute
)

type reservations struct {
	h          host.Host // set once the host exists, before run
	candidates func() []peer.AddrInfo
	log        *slog.Logger

	mu       sync.Mutex
	active   map[peer.ID]time.Time // relay → reservation expiry
	retryAt  map[peer.ID]time.Time
	failures map[peer.ID]int // in a row, per relay
}

func newReservations(candidates func() []peer.AddrInfo, log *slog.Logger) *reservations {
	return &reservations{
		candidates: candidates,
		log:        log,
		active:     map[peer.ID]time.Time{},
		retryAt:    map[peer.ID]time.Time{},
		failures:   map[peer.ID]int{},
	}
}

// run keeps the reservations until ctx ends.
func (r *reservations) run(ctx context.Context) {
	t := time.NewTicker(reserveEvery)
	defer t.Stop()
	for {
		r.step(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// step drops expired reservations and, while the node is not publicly
// reachable, makes or renews reservations up to maxReservations.
func (r *reservations) step(ctx context.Context) {
	now := time.Now()
	r.mu.Lock()
	for p, exp := range r.active {
		// A relay keeps a reservation only while the connection that made
		// it lives: one lost (the relay restarted, our NAT changed its
		// address) is made again.
		if !now.Before(exp) || r.h.Network().Connectedness(p) != network.Connected {
			delete(r.active, p)
		}
	}
	r.mu.Unlock()
	if r.candidates == nil || reachability(r.h) == network.ReachabilityPublic {
		return
	}
	for _, ai := range r.candidates() {
		if ai.ID == r.h.ID() {
			continue
		}
		r.mu.Lock()
		exp, have := r.active[ai.ID]
		full := len(r.active) >= maxReservations
		wait := r.retryAt[ai.ID]
		r.mu.Unlock()
		if (have && now.Before(exp.Add(-renewBefore))) || (!have && full) || now.Before(wait) {
			continue
		}
		r.reserve(ctx, ai)
	}
}

// reserve asks ai for a reservation and records the outcome.
func (r *reservations) reserve(ctx context.Context, ai peer.AddrInfo) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	rsvp, err := client.Reserve(ctx, r.h, ai)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.failures[ai.ID]++
		r.retryAt[ai.ID] = time.Now().Add(Backoff(2*time.Second, relayBackoffMax, r.failures[ai.ID]))
		r.log.Debug("relay reservation failed", "relay", ai.ID, "err", err)
		return
	}
	if _, had := r.active[ai.ID]; !had {
		r.log.Info("relay reservation made", "relay", ai.ID, "expires", rsvp.Expiration)
	}
	r.active[ai.ID] = rsvp.Expiration
	delete(r.failures, ai.ID)
	delete(r.retryAt, ai.ID)
}

// Relays returns the relays the node holds a reservation on.
func (r *reservations) relays() []peer.ID {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]peer.ID, 0, len(r.active))
	now := time.Now()
	for p, exp := range r.active {
		if now.Before(exp) {
			out = append(out, p)
		}
	}
	return out
}

// addrsFactory adds a circuit address through every reserved relay to the
// host's own addresses.
func (r *reservations) addrsFactory(addrs []ma.Multiaddr) []ma.Multiaddr {
	if r.h == nil {
		return addrs
	}
	for _, p := range r.relays() {
		circuit, err := ma.NewMultiaddr("/p2p/" + p.String() + "/p2p-circuit")
		if err != nil {
			continue
		}
		for _, a := range r.h.Peerstore().Addrs(p) {
			if isCircuit(a) {
				continue
			}
			addrs = append(addrs, a.Encapsulate(circuit))
		}
	}
	return addrs
}

// reachability is h's reachability as go-libp2p's host knows it.
func reachability(h host.Host) network.Reachability {
	if r, ok := h.(interface{ Reachability() network.Reachability }); ok {
		return r.Reachability()
	}
	return network.ReachabilityUnknown
}

// isCircuit reports whether a goes through a relay.
func isCircuit(a ma.Multiaddr) bool {
	_, err := a.ValueForProtocol(ma.P_CIRCUIT)
	return err == nil
}
