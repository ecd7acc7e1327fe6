package node

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/pubsub"
)

// admission holds the rate limiters that protect a node from strangers and
// from peers that ask too often.
type admission struct {
	all       *rate.Limiter // all strangers together
	strangers *pubsub.Limiter
	prekeys   *pubsub.Limiter
}

// maxLimiters bounds the per-peer limiter tables; the least recently used
// entries go first.
const maxLimiters = 10000

func newAdmission(l Limits) *admission {
	return &admission{
		all:       rate.NewLimiter(l.AllStrangersRate, l.AllStrangersBurst),
		strangers: pubsub.NewLimiter(l.StrangerRate, l.StrangerBurst, maxLimiters),
		prekeys:   pubsub.NewLimiter(l.PreKeyRate, l.PreKeyBurst, maxLimiters),
	}
}

// allowStranger reports whether a stranger may deliver one more message now.
func (a *admission) allowStranger(p peer.ID) bool {
	return a.strangers.Allow(string(p)) && a.all.AllowN(time.Now(), 1)
}

// allowPreKey reports whether p may fetch another bundle now.
func (a *admission) allowPreKey(p peer.ID) bool { return a.prekeys.Allow(string(p)) }
