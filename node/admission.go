package node

import (
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// admission holds the rate limiters that protect a node from strangers.
type admission struct {
	limits    Limits
	all       *rate.Limiter
	mu        sync.Mutex
	strangers map[peer.ID]*limiterEntry
	prekeys   map[peer.ID]*limiterEntry
	syncs     map[peer.ID]*limiterEntry
}

type limiterEntry struct {
	l    *rate.Limiter
	used time.Time
}

// maxLimiters bounds the per-peer limiter tables; the least recently used
// entries go first.
const maxLimiters = 10000

func newAdmission(l Limits) *admission {
	return &admission{
		limits:    l,
		all:       rate.NewLimiter(l.AllStrangersRate, l.AllStrangersBurst),
		strangers: map[peer.ID]*limiterEntry{},
		prekeys:   map[peer.ID]*limiterEntry{},
		syncs:     map[peer.ID]*limiterEntry{},
	}
}

func (a *admission) limiter(m map[peer.ID]*limiterEntry, p peer.ID, r rate.Limit, burst int, now time.Time) *rate.Limiter {
	e, ok := m[p]
	if !ok {
		if len(m) >= maxLimiters {
			var oldest peer.ID
			var when time.Time
			for q, e := range m {
				if when.IsZero() || e.used.Before(when) {
					oldest, when = q, e.used
				}
			}
			delete(m, oldest)
		}
		e = &limiterEntry{l: rate.NewLimiter(r, burst)}
		m[p] = e
	}
	e.used = now
	return e.l
}

// allowStranger reports whether a stranger may deliver one more message now.
func (a *admission) allowStranger(p peer.ID) bool {
	now := time.Now()
	a.mu.Lock()
	l := a.limiter(a.strangers, p, a.limits.StrangerRate, a.limits.StrangerBurst, now)
	a.mu.Unlock()
	return l.AllowN(now, 1) && a.all.AllowN(now, 1)
}

// allowPreKey reports whether p may fetch another bundle now.
func (a *admission) allowPreKey(p peer.ID) bool {
	now := time.Now()
	a.mu.Lock()
	l := a.limiter(a.prekeys, p, a.limits.PreKeyRate, a.limits.PreKeyBurst, now)
	a.mu.Unlock()
	return l.AllowN(now, 1)
}

// allowSync reports whether p may make another room sync request now.
func (a *admission) allowSync(p peer.ID) bool {
	now := time.Now()
	a.mu.Lock()
	l := a.limiter(a.syncs, p, a.limits.SyncRate, a.limits.SyncBurst, now)
	a.mu.Unlock()
	return l.AllowN(now, 1)
}
