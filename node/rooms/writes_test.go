package rooms

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/backchannel/backchannel/storage"
)

func recs(n int) []storage.RoomMessage {
	out := make([]storage.RoomMessage, n)
	for i := range out {
		out[i].Seq = uint64(i + 1)
	}
	return out
}

// woken reports whether a wake signal is waiting, and consumes it.
func woken(q *writeQueue) bool {
	select {
	case <-q.wake:
		return true
	default:
		return false
	}
}

// TestRoomWritesWake: the writer is woken when the queue turns non-empty and
// when a batch fills, not for every message in between.
func TestRoomWritesWake(t *testing.T) {
	q := newWriteQueue()
	ctx := t.Context()
	steps := []struct {
		add      int
		wantWake bool
	}{
		{1, true},               // first message
		{1, false},              // the writer already knows
		{writeBatch - 3, false}, // one short of a batch
		{1, true},               // the batch is full
		{1, false},
	}
	total := 0
	for i, s := range steps {
		if err := q.add(ctx, recs(s.add)); err != nil {
			t.Fatal(err)
		}
		total += s.add
		if got := woken(q); got != s.wantWake {
			t.Errorf("step %d (+%d): woken %v, want %v", i, s.add, got, s.wantWake)
		}
	}
	if !q.full() {
		t.Error("full() false with a batch waiting")
	}
	if got := len(q.take()); got != total {
		t.Errorf("take: %d messages, want %d", got, total)
	}
	if len(q.take()) != 0 || q.full() {
		t.Error("queue not empty after take")
	}
	if err := q.add(ctx, recs(1)); err != nil || !woken(q) {
		t.Errorf("after take, a new message does not wake the writer (err %v)", err)
	}
}

// TestRoomWritesFull: a reader finding the queue full waits until the writer
// takes it, then queues the rest in order; it gives up when its context ends.
func TestRoomWritesFull(t *testing.T) {
	q := newWriteQueue()
	in := recs(writeQueueSize + 10)
	done := make(chan error, 1)
	go func() { done <- q.add(t.Context(), in) }()

	var got []storage.RoomMessage
	deadline := time.After(10 * time.Second)
	for len(got) < len(in) {
		select {
		case <-q.wake:
		case <-deadline:
			t.Fatalf("got %d of %d messages", len(got), len(in))
		}
		got = append(got, q.take()...)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for i := range got {
		if got[i].Seq != in[i].Seq {
			t.Fatalf("message %d has seq %d, want %d", i, got[i].Seq, in[i].Seq)
		}
	}

	ctx, cancel := context.WithCancel(t.Context())
	if err := q.add(ctx, recs(writeQueueSize)); err != nil {
		t.Fatal(err)
	}
	go func() { done <- q.add(ctx, recs(1)) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("add on a full queue after cancel: %v, want context.Canceled", err)
	}
}
