package rooms

import (
	"context"
	"sync"

	"github.com/backchannel/backchannel/storage"
)

// writeQueue is the queue between the rooms' readers and the store writer.
// Readers append under a lock and wake the writer only when the queue turns
// non-empty or a batch fills: in a busy room the writer wakes once a batch,
// not once a message, and every wake-up on the delivery path is felt by
// every room's latency (goroutines on a handful of cores queue behind it).
type writeQueue struct {
	// wake has room for one signal: the queue turned non-empty, or a
	// batch is full.
	wake chan struct{}

	mu      sync.Mutex
	pending []storage.RoomMessage
	space   chan struct{} // closed when the writer takes what is pending
}

func newWriteQueue() *writeQueue {
	return &writeQueue{wake: make(chan struct{}, 1), space: make(chan struct{})}
}

// add queues recs for the writer. While the queue holds writeQueueSize
// messages it waits for the writer to take them; it gives up, queuing
// nothing more, when ctx ends.
func (q *writeQueue) add(ctx context.Context, recs []storage.RoomMessage) error {
	for len(recs) > 0 {
		q.mu.Lock()
		before := len(q.pending)
		if before >= writeQueueSize {
			space := q.space
			q.mu.Unlock()
			select {
			case <-space:
				continue
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		n := min(len(recs), writeQueueSize-before)
		q.pending = append(q.pending, recs[:n]...)
		after := len(q.pending)
		q.mu.Unlock()
		recs = recs[n:]
		if before == 0 || (before < writeBatch && after >= writeBatch) {
			select {
			case q.wake <- struct{}{}:
			default: // a signal is already waiting
			}
		}
	}
	return nil
}

// full reports whether a whole batch is waiting.
func (q *writeQueue) full() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.pending) >= writeBatch
}

// take removes and returns everything pending, and lets waiting readers go on.
func (q *writeQueue) take() []storage.RoomMessage {
	q.mu.Lock()
	defer q.mu.Unlock()
	p := q.pending
	q.pending = nil
	close(q.space)
	q.space = make(chan struct{})
	return p
}
