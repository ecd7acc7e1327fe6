package dm

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/storage"
)

const (
	// ackTimeout is how long a sender waits for any progress on acks.
	ackTimeout = 30 * time.Second
	// sentGrace is how long a message may wait for its ack before it is
	// marked sent.
	sentGrace = 200 * time.Millisecond
)

// outbox delivers queued messages: one deliverer goroutine per peer at a
// time, owned by the node. Which peers are due lives in memory; the entries
// themselves live in the store, so a restart delivers everything again.
type outbox struct {
	d    *Service
	kick chan struct{}

	mu       sync.Mutex
	due      map[peer.ID]time.Time
	active   map[peer.ID]bool
	again    map[peer.ID]bool
	attempts map[peer.ID]int
	// unreachable: when a peer's deliveries started failing, for the
	// mailbox deposit's delay.
	unreachable map[peer.ID]time.Time
}

func newOutbox(d *Service) *outbox {
	return &outbox{
		d:        d,
		kick:     make(chan struct{}, 1),
		due:      map[peer.ID]time.Time{},
		active:   map[peer.ID]bool{},
		again:    map[peer.ID]bool{},
		attempts: map[peer.ID]int{},

		unreachable: map[peer.ID]time.Time{},
	}
}

func (o *outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// notify makes p due now: new messages, or p just connected.
func (o *outbox) notify(p peer.ID) {
	o.mu.Lock()
	if o.active[p] {
		o.again[p] = true
	} else {
		o.due[p] = time.Time{}
	}
	o.mu.Unlock()
	o.wake()
}

// peerConnected flushes p's queue at once, if it has one.
func (o *outbox) peerConnected(p peer.ID) {
	o.mu.Lock()
	delete(o.unreachable, p)
	_, queued := o.due[p]
	if queued && !o.active[p] {
		o.due[p] = time.Time{}
		o.attempts[p] = 0
	}
	o.mu.Unlock()
	if queued {
		o.wake()
	}
}

func (o *outbox) run(ctx context.Context) {
	var peers []peer.ID
	err := o.d.env.Store.View(func(tx *storage.Txn) error {
		var err error
		peers, err = tx.OutboxPeers()
		return err
	})
	if err != nil {
		o.d.env.Log.Error("outbox: cannot read queue", "err", err)
	}
	o.mu.Lock()
	for _, p := range peers {
		o.due[p] = time.Time{}
	}
	o.mu.Unlock()

	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := o.startDue(ctx, &wg)
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-o.kick:
		case <-timer.C:
		}
	}
}

// startDue starts a deliverer for every due peer and returns when the next
// one falls due.
func (o *outbox) startDue(ctx context.Context, wg *sync.WaitGroup) time.Time {
	now := time.Now()
	next := now.Add(time.Hour)
	o.mu.Lock()
	defer o.mu.Unlock()
	for p, t := range o.due {
		if o.active[p] {
			continue
		}
		if t.After(now) {
			if t.Before(next) {
				next = t
			}
			continue
		}
		delete(o.due, p)
		o.active[p] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := o.deliver(ctx, p)
			o.finished(p, err)
		}()
	}
	return next
}

func (o *outbox) finished(p peer.ID, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.active, p)
	switch {
	case errors.Is(err, errQueueEmpty):
		delete(o.attempts, p)
		if o.again[p] {
			o.due[p] = time.Time{}
		}
	case err == nil || o.again[p]:
		o.due[p] = time.Time{}
	default:
		o.attempts[p]++
		wait := p2p.Backoff(o.d.cfg.RetryBase, o.d.cfg.RetryMax, o.attempts[p])
		o.due[p] = time.Now().Add(wait)
		if o.d.ctx.Err() == nil {
			o.d.env.Log.Info("outbox: delivery failed, will retry", "to", p, "in", wait.Round(time.Millisecond), "err", err)
		}
	}
	delete(o.again, p)
	o.wake()
}
