package env

import (
	"sync"
	"time"
)

// SendClock gives strictly increasing timestamps, so messages sent in a
// burst keep their order in the recipient's thread and outbox entries sort
// in the order they were made. Each node has its own.
type SendClock struct {
	mu   sync.Mutex
	last time.Time
}

// Now returns the current UTC time, or just past the last one returned.
func (c *SendClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := time.Now().UTC()
	if !t.After(c.last) {
		t = c.last.Add(time.Nanosecond)
	}
	c.last = t
	return t
}
