package pubsub

import (
	"container/list"
	"sync"

	"golang.org/x/time/rate"
)

// Limiter is a token bucket per key (a sender's key, a peer ID), for
// validators' rate limits. It holds at most maxKeys buckets and evicts the
// least recently used one to make room, so memory stays bounded whatever
// keys arrive; an evicted key starts again with a full bucket, so maxKeys
// should exceed the number of keys active at once. It is safe for
// concurrent use.
type Limiter struct {
	r       rate.Limit
	burst   int
	maxKeys int

	mu    sync.Mutex
	keys  map[string]*list.Element // of *bucket
	order *list.List               // most recently used first
}

type bucket struct {
	key string
	lim *rate.Limiter
}

// NewLimiter returns a Limiter allowing each key r events per second with
// bursts of burst, tracking at most maxKeys keys (at least 1).
func NewLimiter(r rate.Limit, burst int, maxKeys int) *Limiter {
	return &Limiter{
		r:       r,
		burst:   burst,
		maxKeys: max(maxKeys, 1),
		keys:    make(map[string]*list.Element),
		order:   list.New(),
	}
}

// Allow reports whether key may have one more event now, and takes a token
// if so.
func (l *Limiter) Allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.keys[key]; ok {
		l.order.MoveToFront(e)
		return e.Value.(*bucket).lim.Allow()
	}
	if l.order.Len() >= l.maxKeys {
		oldest := l.order.Back()
		l.order.Remove(oldest)
		delete(l.keys, oldest.Value.(*bucket).key)
	}
	b := &bucket{key: key, lim: rate.NewLimiter(l.r, l.burst)}
	l.keys[key] = l.order.PushFront(b)
	return b.lim.Allow()
}

// Len returns how many keys the Limiter tracks.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.order.Len()
}
