package bench

import (
	"sync"
	"time"
)

// arrivals records when each receiver got each line, and how often. A line
// may arrive before its send call has returned its ID: such arrivals wait
// in early until markSent, so that the sender never holds the lock across
// the send and receivers never queue behind it.
//
// A comparison measures several windows on the same nodes: reset starts a
// new one, and lines of an earlier window that arrive after it are left
// out (they wait in early for a markSent that never comes).
type arrivals[K comparable] struct {
	mu      sync.Mutex
	sent    map[K]time.Time
	line    map[K]int         // the order in which each line was marked sent
	early   map[K][]time.Time // first arrivals of lines not marked sent yet
	lat     []time.Duration
	latLine []int // the line of each latency in lat
	last    time.Time
	seen    map[[2]any]int // (receiver, key) -> copies
}

func newArrivals[K comparable]() *arrivals[K] {
	a := &arrivals[K]{}
	a.reset()
	return a
}

// reset forgets everything: a new window starts.
func (a *arrivals[K]) reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent, a.line, a.early, a.seen = map[K]time.Time{}, map[K]int{}, map[K][]time.Time{}, map[[2]any]int{}
	a.lat, a.latLine, a.last = nil, nil, time.Time{}
}

func (a *arrivals[K]) markSent(k K, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.sent[k] = at
	line := len(a.line)
	a.line[k] = line
	for _, got := range a.early[k] {
		a.record(line, got.Sub(at), got)
	}
	delete(a.early, k)
}

func (a *arrivals[K]) record(line int, d time.Duration, at time.Time) {
	a.lat = append(a.lat, d)
	a.latLine = append(a.latLine, line)
	if at.After(a.last) {
		a.last = at
	}
}

func (a *arrivals[K]) arrived(receiver int, k K, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	key := [2]any{receiver, k}
	a.seen[key]++
	if a.seen[key] > 1 {
		return
	}
	if t, ok := a.sent[k]; ok {
		a.record(a.line[k], at.Sub(t), at)
	} else {
		a.early[k] = append(a.early[k], at)
	}
}

func (a *arrivals[K]) latencies() []time.Duration {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]time.Duration(nil), a.lat...)
}

func (a *arrivals[K]) duplicates() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := 0
	for _, c := range a.seen {
		d += c - 1
	}
	return d
}

func (a *arrivals[K]) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.lat)
}

// times is a window's arrivals: every latency, and those of the window's
// first and last third of lines (by the order they were sent), the latest
// arrival and the copies beyond the first.
func (a *arrivals[K]) times() windowTimes {
	a.mu.Lock()
	defer a.mu.Unlock()
	w := windowTimes{lat: append([]time.Duration(nil), a.lat...), last: a.last}
	lines := len(a.line)
	for i, d := range a.lat {
		switch l := a.latLine[i]; {
		case l < lines/3:
			w.first = append(w.first, d)
		case l >= lines-lines/3:
			w.final = append(w.final, d)
		}
	}
	for _, c := range a.seen {
		w.dups += c - 1
	}
	return w
}

// windowTimes are the arrivals of one window (see arrivals.times).
type windowTimes struct {
	lat          []time.Duration
	first, final []time.Duration // of the first and the last third of lines
	last         time.Time
	dups         int
}
