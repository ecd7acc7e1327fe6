package topic

import (
	"context"
	"time"
)

// Publisher publishes one message on a topic (*pubsub.Topic, with T
// []byte), waiting until ctx ends for the mesh to be ready.
type Publisher[T any] interface {
	Publish(ctx context.Context, msg T) error
}

// Policy is how a Queue publishes.
type Policy struct {
	// Size bounds the messages waiting; beyond it Enqueue refuses.
	Size int
	// Wait bounds how long one publish waits for the mesh.
	Wait time.Duration
	// MaxAge, when positive, drops a message that waited in the queue
	// longer than that instead of publishing it late: a backlog built up
	// while we were alone would otherwise hold every newer message back.
	// Only then is the time of each Enqueue read.
	MaxAge time.Duration
	// Flush, when positive, is how long leaving sends what is still
	// queued; at zero leaving drops it.
	Flush time.Duration
	// LeaveAborts ends a publish under way when the topic is left; without
	// it a publish runs its Wait out (only closing the service ends it).
	LeaveAborts bool
}

// queued is one message waiting in a Queue.
type queued[T any] struct {
	data T
	at   time.Time // when it was queued, if Policy.MaxAge is set
}

// Queue is a topic's publish queue: our stored messages, published in
// order by Run.
type Queue[T any] struct {
	topic  Publisher[T]
	policy Policy
	q      chan queued[T]
}

// NewQueue makes a queue that publishes on t under p.
func NewQueue[T any](t Publisher[T], p Policy) *Queue[T] {
	return &Queue[T]{topic: t, policy: p, q: make(chan queued[T], p.Size)}
}

// Enqueue hands data to the publishing goroutine without waiting; it
// reports false when the queue is full (the message is stored: sync carries
// it).
func (q *Queue[T]) Enqueue(data T) bool {
	it := queued[T]{data: data}
	if q.policy.MaxAge > 0 {
		it.at = time.Now()
	}
	select {
	case q.q <- it:
		return true
	default:
		return false
	}
}

// Run publishes what is queued, in order, until svc ends or join ends
// (the topic is left); then, with Policy.Flush, it sends what is still
// queued for up to Flush. Each publish that fails is handed to failed.
// Run is the queue's one consumer: the owner runs it in a goroutine of the
// join.
func (q *Queue[T]) Run(svc, join context.Context, failed func(error)) {
	parent := svc
	if q.policy.LeaveAborts {
		parent = join
	}
	for {
		select {
		case <-svc.Done():
			return
		case <-join.Done():
			if q.policy.Flush > 0 {
				q.flush(svc)
			}
			return
		case it := <-q.q:
			if q.policy.MaxAge > 0 && time.Since(it.at) > q.policy.MaxAge {
				continue
			}
			ctx, cancel := context.WithTimeout(parent, q.policy.Wait)
			err := q.topic.Publish(ctx, it.data)
			cancel()
			if err != nil {
				failed(err)
			}
		}
	}
}

// flush publishes what is queued, for up to Policy.Flush in all, and stops
// at the first failure (sync carries the rest, if we come back).
func (q *Queue[T]) flush(svc context.Context) {
	ctx, cancel := context.WithTimeout(svc, q.policy.Flush)
	defer cancel()
	for {
		select {
		case it := <-q.q:
			if err := q.topic.Publish(ctx, it.data); err != nil {
				return
			}
		default:
			return
		}
	}
}
