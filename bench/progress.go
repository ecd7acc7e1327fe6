package bench

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// Progress prints one line per scenario step, with the time since the run
// started, so that a long run shows what it is doing:
//
//	[  12.3s] rooms: 30 nodes: 200 lines sent, waiting for delivery
//
// A nil *Progress prints nothing. It is safe for concurrent use.
type Progress struct {
	mu    sync.Mutex
	w     io.Writer
	start time.Time
}

// NewProgress returns a Progress writing to w (usually stderr).
func NewProgress(w io.Writer) *Progress { return &Progress{w: w, start: time.Now()} }

// Step prints one step of a scenario.
func (p *Progress) Step(scenario, msg string) {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, "[%6.1fs] %s: %s\n", time.Since(p.start).Seconds(), scenario, msg)
}
