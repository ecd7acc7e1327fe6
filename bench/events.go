package bench

import (
	"sync"

	"github.com/backchannel/backchannel/node"
)

// eventReaders reads nodes' event streams, each in a goroutine of its
// own, until close cancels every subscription and waits for the readers
// (the cluster closes the nodes).
type eventReaders struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	cancels []func()
}

// read subscribes to nd's events and calls fn with each, until close or
// until nd closes.
func (r *eventReaders) read(nd *node.Node, fn func(node.Event)) {
	evs, cancel := nd.Subscribe()
	r.mu.Lock()
	r.cancels = append(r.cancels, cancel)
	r.mu.Unlock()
	r.wg.Go(func() {
		for ev := range evs {
			fn(ev)
		}
	})
}

// close ends the subscriptions and waits for their readers.
func (r *eventReaders) close() {
	r.mu.Lock()
	cancels := r.cancels
	r.cancels = nil
	r.mu.Unlock()
	for _, c := range cancels {
		c()
	}
	r.wg.Wait()
}
