package mailbox

import (
	"sync"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"
)

// limiters rate-limits deposit requests: per depositor and recipient, and
// all strangers of a recipient together. Bounded: past maxLimiters buckets
// they are all forgotten.
type limiters struct {
	l  Limits
	mu sync.Mutex
	by map[string]*rate.Limiter
}

func newLimiters(l Limits) *limiters { return &limiters{l: l, by: map[string]*rate.Limiter{}} }

// allow takes one deposit request of dep for rcpt from the buckets.
func (ls *limiters) allow(dep depositorOf, rcpt peer.ID) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.by) >= maxLimiters {
		clear(ls.by)
	}
	if !ls.get("d"+string(rcpt)+"/"+string(dep.key), ls.l.DepositRate, ls.l.DepositBurst).Allow() {
		return false
	}
	if dep.stranger {
		if !ls.get("s/"+string(dep.key), ls.l.StrangerRate, ls.l.StrangerBurst).Allow() {
			return false
		}
		// All strangers of one recipient share a bucket ten times one's.
		return ls.get("a/"+string(rcpt), 10*ls.l.StrangerRate, 10*ls.l.StrangerBurst).Allow()
	}
	return true
}

func (ls *limiters) get(k string, r rate.Limit, b int) *rate.Limiter {
	l, ok := ls.by[k]
	if !ok {
		l = rate.NewLimiter(r, b)
		ls.by[k] = l
	}
	return l
}

// allowBundle takes one bundle request of asker from its bucket.
func (ls *limiters) allowBundle(asker peer.ID) bool {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	if len(ls.by) >= maxLimiters {
		clear(ls.by)
	}
	return ls.get("b/"+string(asker), bundleRate, bundleBurst).Allow()
}
