package env

import (
	"context"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
)

// Lifetime is the node's lifetime as its services see it: a context that
// ends when the node closes, goroutines the node waits for, and stream
// handlers whose open streams are reset on close.
type Lifetime struct {
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	streams sync.Map // network.Stream -> struct{}: reset by End
}

// NewLifetime starts a lifetime.
func NewLifetime() *Lifetime {
	ctx, cancel := context.WithCancel(context.Background())
	return &Lifetime{ctx: ctx, cancel: cancel}
}

// Context ends when the node closes.
func (l *Lifetime) Context() context.Context { return l.ctx }

// Go runs fn in a goroutine that End waits for. Call it from the node's
// start, from a goroutine Go started, or from a stream handler Handle
// registered: never after End has returned.
func (l *Lifetime) Go(fn func()) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		fn()
	}()
}

// Handle registers a stream handler on h whose streams End resets and
// waits for. Streams that arrive after the lifetime ended are reset.
func (l *Lifetime) Handle(h host.Host, id protocol.ID, fn network.StreamHandler) {
	h.SetStreamHandler(id, func(s network.Stream) {
		if l.ctx.Err() != nil {
			s.Reset()
			return
		}
		l.wg.Add(1)
		defer l.wg.Done()
		l.streams.Store(s, struct{}{})
		defer l.streams.Delete(s)
		fn(s)
	})
}

// Cancel ends the context: goroutines and handlers start to wind down.
func (l *Lifetime) Cancel() { l.cancel() }

// ResetStreams resets every stream a handler is still serving.
func (l *Lifetime) ResetStreams() {
	l.streams.Range(func(k, _ any) bool {
		k.(network.Stream).Reset()
		return true
	})
}

// Wait waits for every goroutine and handler. Call it after Cancel.
func (l *Lifetime) Wait() { l.wg.Wait() }
