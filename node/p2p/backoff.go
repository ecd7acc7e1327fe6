package p2p

import (
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/p2p/net/swarm"
)

// forgetDialBackoff clears libp2p's dial backoff for p. After a failed
// dial libp2p refuses to dial p's addresses again for 5 s and more, and our
// callers retry on their own schedule (the outbox: exponential with jitter,
// up to Config.RetryMax): without this a contact back from a restart waited
// out the backoff, about 5 s, before its queued messages went.
func forgetDialBackoff(h host.Host, p peer.ID) {
	if sw, ok := h.Network().(interface{ Backoff() *swarm.DialBackoff }); ok {
		sw.Backoff().Clear(p)
	}
}

// Backoff is the wait before the attempt-th retry in a row (attempt 1 is
// the first): base doubling up to max, less a random part of up to half, so
// that peers which failed together do not retry together. The outbox, DHT
// announcements and relay reservations all wait this way.
func Backoff(base, max time.Duration, attempt int) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}
