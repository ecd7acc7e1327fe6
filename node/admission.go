package node

import (
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/pubsub"
)

// admission rate-limits room sync requests per peer. Strangers' messages
// and bundle requests are node/requests' business.
type admission struct {
	syncs *pubsub.Limiter
}

// maxLimiters bounds the per-peer limiter table; the least recently used
// entries go first.
const maxLimiters = 10000

func newAdmission(l Limits) *admission {
	return &admission{syncs: pubsub.NewLimiter(l.SyncRate, l.SyncBurst, maxLimiters)}
}

// allowSync reports whether p may make another room sync request now.
func (a *admission) allowSync(p peer.ID) bool { return a.syncs.Allow(string(p)) }
