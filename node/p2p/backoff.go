package p2p

import (
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
