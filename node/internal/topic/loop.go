package topic

import (
	"sync"
	"time"
)

// Go runs fn in a goroutine counted in both join (the topic's goroutines,
// which leaving it waits for) and svc (the service's, which closing it
// waits for). The caller makes sure neither has been waited for yet.
func Go(join, svc *sync.WaitGroup, fn func()) {
	join.Add(1)
	svc.Add(1)
	go func() {
		defer svc.Done()
		defer join.Done()
		fn()
	}()
}

// Every runs fn at once and then every interval until done closes: sooner
// when fn returns a positive duration shorter than interval, and at once
// when poke receives (a nil poke never does). The next interval counts
// from the end of fn. It runs in the caller's goroutine.
func Every(done <-chan struct{}, interval time.Duration, poke <-chan struct{}, fn func() (sooner time.Duration)) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
		case <-poke:
		}
		next := interval
		if sooner := fn(); sooner > 0 {
			next = min(next, sooner)
		}
		t.Reset(next) // since Go 1.23 no stale tick survives Reset
	}
}

// AfterPoke runs fn delay after poke receives, then waits for the next
// poke, until done closes. The owner pokes with a non-blocking send on a
// channel of capacity one, so pokes during the delay or fn start one more
// round, not one each.
func AfterPoke(done <-chan struct{}, poke <-chan struct{}, delay time.Duration, fn func()) {
	for {
		select {
		case <-done:
			return
		case <-poke:
		}
		select {
		case <-done:
			return
		case <-time.After(delay):
		}
		fn()
	}
}
