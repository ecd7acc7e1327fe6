package bench

import (
	"context"
	"sync"
	"time"
)

// repairTimer times, in the background, how long a node that came back
// takes to hold everything sent before it came back: the fault scenarios'
// "back to gap repaired".
type repairTimer struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	took time.Duration
	err  error
}

// start polls repaired every 10 ms, for up to e.deliveryTimeout, and times
// it from back.
func (r *repairTimer) start(ctx context.Context, e *env, back time.Time, repaired func() (bool, error)) {
	r.wg.Go(func() {
		err := waitFor(ctx, "the gap repaired", e.deliveryTimeout, 10*time.Millisecond, repaired)
		r.mu.Lock()
		r.took, r.err = time.Since(back), err
		r.mu.Unlock()
	})
}

// wait waits for the timing and returns it, or why the gap was not repaired.
func (r *repairTimer) wait() (time.Duration, error) {
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.took, r.err
}
