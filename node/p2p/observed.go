package p2p

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/event"
	"github.com/libp2p/go-libp2p/core/host"
	ma "github.com/multiformats/go-multiaddr"
	manet "github.com/multiformats/go-multiaddr/net"
)

// observedAddrs are the node's addresses as its peers see them: identify
// tells each side the address it saw the other come from. Behind a NAT
// these are the router's public address and port: what hole punching
// offers the other side, and what status shows.
//
// go-libp2p keeps its own, but hands hole punching only those it calls
// public and, for the host's addresses, only those four peers agree on;
// a node that knows one helper has one observer.
type observedAddrs struct {
	extra  []netip.Prefix // ranges counted as public besides go-libp2p's
	sub    event.Subscription
	listen func() []ma.Multiaddr // the host's listen addresses

	mu   sync.Mutex
	seen map[string]observation
}

type observation struct {
	addr ma.Multiaddr
	at   time.Time
}

const (
	maxObserved = 16
	observedTTL = 30 * time.Minute
)

func newObservedAddrs(extra []netip.Prefix) *observedAddrs {
	return &observedAddrs{extra: extra, seen: map[string]observation{}}
}

// subscribe subscribes to what identify reports. It is called as soon as
// the host exists: the DHT dials its bootstrap peers at once, and an
// identification missed is not repeated.
func (o *observedAddrs) subscribe(h host.Host) error {
	sub, err := h.EventBus().Subscribe(new(event.EvtPeerIdentificationCompleted))
	if err != nil {
		return fmt.Errorf("observed addresses: %w", err)
	}
	o.sub = sub
	o.listen = h.Network().ListenAddresses
	return nil
}

// fromListenPort reports whether a connection's local address is one the
// node listens on (same transport and port; same IP unless listening on
// all). Only then does what the peer observed say where others can reach
// the node: a connection dialled from a passing port was seen on a port
// nothing listens on, and behind a NAT on a mapping made for that peer
// alone. go-libp2p's own observed-address manager has the same rule.
func fromListenPort(local ma.Multiaddr, listen []ma.Multiaddr) bool {
	if len(local) < 2 {
		return false
	}
	for _, l := range listen {
		if len(l) < 2 || !l[1].Equal(&local[1]) {
			continue
		}
		if ip, err := manet.ToIP(l); err == nil && (ip.IsUnspecified() || l[0].Equal(&local[0])) {
			return true
		}
	}
	return false
}

// run records what identify reports until ctx ends, then closes the
// subscription.
func (o *observedAddrs) run(ctx context.Context) {
	defer o.sub.Close()
	for {
		select {
		case <-ctx.Done():
			return
		case e, ok := <-o.sub.Out():
			if !ok {
				return
			}
			if ev, ok := e.(event.EvtPeerIdentificationCompleted); ok && ev.ObservedAddr != nil && ev.Conn != nil &&
				fromListenPort(ev.Conn.LocalMultiaddr(), o.listen()) {
				o.add(ev.ObservedAddr)
			}
		}
	}
}

// add records a, unless it says nothing others could use.
func (o *observedAddrs) add(a ma.Multiaddr) {
	if manet.IsIPLoopback(a) || isCircuit(a) || manet.IsIPUnspecified(a) {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.seen[string(a.Bytes())] = observation{addr: a, at: time.Now()}
	for len(o.seen) > maxObserved {
		var oldest string
		for k, v := range o.seen {
			if oldest == "" || v.at.Before(o.seen[oldest].at) {
				oldest = k
			}
		}
		delete(o.seen, oldest)
	}
}

// addrs returns the addresses observed lately, in byte order.
func (o *observedAddrs) addrs() []ma.Multiaddr {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []ma.Multiaddr
	for _, v := range o.seen {
		if time.Since(v.at) < observedTTL {
			out = append(out, v.addr)
		}
	}
	slices.SortFunc(out, func(a, b ma.Multiaddr) int { return slices.Compare(a.Bytes(), b.Bytes()) })
	return out
}

// ObservedAddrs are the node's addresses as its peers saw them lately.
func (n *Network) ObservedAddrs() []ma.Multiaddr { return n.observed.addrs() }

// holePunchAddrs are the public addresses hole punching offers a peer:
// the public ones the node listens on and the observed ones.
func (n *Network) holePunchAddrs() []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range append(n.host.Network().ListenAddresses(), n.observed.addrs()...) {
		if !isCircuit(a) && isPublic(a, n.cfg.PublicRanges) {
			out = append(out, a)
		}
	}
	return ma.Unique(out)
}
