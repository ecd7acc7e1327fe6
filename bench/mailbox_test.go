package bench

import (
	"context"
	"log/slog"
	"slices"
	"testing"
	"time"
)

func TestFrameSizes(t *testing.T) {
	got := frameSizes(4, 10)
	if want := []int{3, 3, 2, 2}; !slices.Equal(got, want) {
		t.Fatalf("frameSizes(4, 10) = %v, want %v", got, want)
	}
}

// TestMarkHandler: the drain's debug lines are marked once, at their first
// time, whatever the next handler's level, and the rest passes through.
func TestMarkHandler(t *testing.T) {
	marks := &logMarks{}
	log := slog.New(&markHandler{marks: marks, next: slog.DiscardHandler}).With("peer", "x")
	start := time.Now()
	log.Debug("mailbox: draining")
	log.Debug("mailbox: drained", "items", 256)
	firsts := time.Since(start)
	time.Sleep(2 * time.Millisecond)
	log.Debug("mailbox: draining")
	log.Info("other")
	begin, fetch := marks.since(start)
	if begin <= 0 || fetch < begin || fetch > firsts {
		t.Fatalf("draining at %v, drained at %v", begin, fetch)
	}
	if !log.Handler().Enabled(context.Background(), slog.LevelDebug) {
		t.Fatal("debug records not taken")
	}
}
