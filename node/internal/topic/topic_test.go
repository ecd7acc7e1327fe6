package topic

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// wait is how long a test waits for an event before it fails.
const wait = 10 * time.Second

// fakeTopic records what is published, and tells out. While hold is set,
// each publish first announces itself on started and waits for release or
// its ctx.
type fakeTopic struct {
	hold    bool
	started chan context.Context
	release chan error
	out     chan string

	mu   sync.Mutex
	sent []string
}

func newFakeTopic(hold bool) *fakeTopic {
	return &fakeTopic{hold: hold, started: make(chan context.Context, 16), release: make(chan error), out: make(chan string, 16)}
}

func (f *fakeTopic) Publish(ctx context.Context, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if f.hold {
		f.started <- ctx
		select {
		case err := <-f.release:
			if err != nil {
				return err
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	f.mu.Lock()
	f.sent = append(f.sent, string(data))
	f.mu.Unlock()
	f.out <- string(data)
	return nil
}

func (f *fakeTopic) published() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// run runs q until svc or join ends, and returns a channel closed when Run
// has returned.
func run(q *Queue[[]byte], svc, join context.Context, failed func(error)) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		q.Run(svc, join, failed)
	}()
	return done
}

func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(wait):
		t.Fatalf("%s: timed out", what)
	}
}

func TestQueueEnqueueFull(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy Policy
	}{
		{"room policy", Policy{Size: 2, Wait: time.Hour, MaxAge: time.Hour, Flush: time.Second}},
		{"group policy", Policy{Size: 2, Wait: time.Hour, LeaveAborts: true}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := NewQueue[[]byte](newFakeTopic(false), tc.policy)
			got := []bool{q.Enqueue([]byte("a")), q.Enqueue([]byte("b")), q.Enqueue([]byte("c"))}
			if want := []bool{true, true, false}; !slices.Equal(got, want) {
				t.Errorf("Enqueue past Size %d: %v, want %v", tc.policy.Size, got, want)
			}
			if tc.policy.MaxAge == 0 && !(<-q.q).at.IsZero() {
				t.Error("queue without MaxAge read the clock")
			}
		})
	}
}

// TestQueuePublishesInOrder: what is queued is published in order, and a
// message older than MaxAge is dropped, not published late.
func TestQueuePublishesInOrder(t *testing.T) {
	for _, tc := range []struct {
		name   string
		policy Policy
		stale  bool // queue a message already past MaxAge first
		want   []string
	}{
		{"no max age", Policy{Size: 8, Wait: time.Hour}, false, []string{"a", "b", "c"}},
		{"fresh under max age", Policy{Size: 8, Wait: time.Hour, MaxAge: time.Hour}, false, []string{"a", "b", "c"}},
		{"stale dropped", Policy{Size: 8, Wait: time.Hour, MaxAge: time.Hour}, true, []string{"a", "b", "c"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeTopic(false)
			q := NewQueue[[]byte](f, tc.policy)
			if tc.stale {
				q.q <- queued[[]byte]{data: []byte("stale"), at: time.Now().Add(-2 * time.Hour)}
			}
			for _, s := range tc.want {
				if !q.Enqueue([]byte(s)) {
					t.Fatalf("Enqueue %q refused", s)
				}
			}
			svc, stop := context.WithCancel(t.Context())
			done := run(q, svc, svc, func(err error) { t.Errorf("publish failed: %v", err) })
			deadline := time.After(wait)
			for range tc.want {
				select {
				case <-f.out:
				case <-deadline:
					stop()
					<-done
					t.Fatalf("published %q, want %q", f.published(), tc.want)
				}
			}
			stop()
			waitClosed(t, done, "Run after the service closed")
			if got := f.published(); !slices.Equal(got, tc.want) {
				t.Errorf("published %q, want %q", got, tc.want)
			}
		})
	}
}

// TestQueueLeave: leaving ends a publish under way only with LeaveAborts,
// and sends what is still queued only with Flush.
func TestQueueLeave(t *testing.T) {
	for _, tc := range []struct {
		name        string
		policy      Policy
		abortsAfter bool // the publish under way sees its ctx end at leave
		flushes     bool // all queued is sent after leaving
	}{
		{"room: flush, publish runs on", Policy{Size: 8, Wait: time.Hour, MaxAge: time.Hour, Flush: time.Hour}, false, true},
		{"group: no flush, publish aborted", Policy{Size: 8, Wait: time.Hour, LeaveAborts: true}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeTopic(true)
			q := NewQueue[[]byte](f, tc.policy)
			for _, s := range []string{"a", "b", "c"} {
				q.Enqueue([]byte(s))
			}
			svc, stopSvc := context.WithCancel(t.Context())
			defer stopSvc()
			join, leave := context.WithCancel(svc)
			var failures []error
			done := run(q, svc, join, func(err error) { failures = append(failures, err) })
			var ctx context.Context
			select {
			case ctx = <-f.started:
			case <-time.After(wait):
				t.Fatal("first publish did not start")
			}
			leave()
			if got := ctx.Err() != nil; got != tc.abortsAfter {
				t.Fatalf("publish ctx ended at leave: %v, want %v", got, tc.abortsAfter)
			}
			if !tc.abortsAfter {
				f.release <- nil // the publish under way succeeds
			}
			// Every further publish (flushed or picked before Run saw the
			// leave) succeeds at once.
			go func() {
				for range f.started {
					f.release <- nil
				}
			}()
			waitClosed(t, done, "Run after leaving")
			close(f.started)
			got := f.published()
			if tc.flushes && !slices.Equal(got, []string{"a", "b", "c"}) {
				t.Errorf("published %q after leaving with Flush, want all", got)
			}
			if !slices.Equal(got, []string{"a", "b", "c"}[:len(got)]) {
				t.Errorf("published %q: not in order", got)
			}
			if tc.abortsAfter && (len(failures) == 0 || !errors.Is(failures[0], context.Canceled)) {
				t.Errorf("failures %v, want the aborted publish's context.Canceled", failures)
			}
		})
	}
}

func TestReadBatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		max  int
		in   []int
		want [][]int
	}{
		{"one per batch", 1, []int{2, 4, 6}, [][]int{{2}, {4}, {6}}},
		{"odd left out, batches of two", 2, []int{1, 2, 3, 4, 6, 8, 10}, [][]int{{2, 4}, {6, 8}, {10}}},
		{"all waiting in one batch", 100, []int{2, 4, 6}, [][]int{{2, 4, 6}}},
		{"nothing kept, nothing handed on", 4, []int{1, 3, 5}, nil},
		{"closed at once", 4, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			msgs := make(chan int, len(tc.in))
			for _, m := range tc.in {
				msgs <- m
			}
			close(msgs)
			var got [][]int
			even := func(m int) (int, bool) { return m, m%2 == 0 }
			ReadBatches(msgs, tc.max, even, func(b []int) { got = append(got, slices.Clone(b)) })
			if !slices.EqualFunc(got, tc.want, slices.Equal) {
				t.Errorf("batches %v, want %v", got, tc.want)
			}
		})
	}
}

// TestEvery: fn runs at once, again sooner when it asks, at once when
// poked, and not after done closes.
func TestEvery(t *testing.T) {
	for _, tc := range []struct {
		name   string
		sooner time.Duration // what fn returns
		poke   bool          // how the second run is brought about
	}{
		{"sooner than the interval", time.Millisecond, false},
		{"poked", 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			done, poke := make(chan struct{}), make(chan struct{}, 1)
			calls := make(chan struct{}, 8)
			stopped := make(chan struct{})
			go func() {
				defer close(stopped)
				Every(done, time.Hour, poke, func() time.Duration {
					calls <- struct{}{}
					return tc.sooner
				})
			}()
			for i := range 2 {
				select {
				case <-calls:
				case <-time.After(wait):
					t.Fatalf("run %d did not come", i+1)
				}
				if i == 0 && tc.poke {
					poke <- struct{}{}
				}
			}
			close(done)
			waitClosed(t, stopped, "Every after done")
		})
	}
}

func TestAfterPoke(t *testing.T) {
	done, poke := make(chan struct{}), make(chan struct{}, 1)
	calls := make(chan struct{}, 8)
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		AfterPoke(done, poke, time.Millisecond, func() { calls <- struct{}{} })
	}()
	for i := range 2 {
		poke <- struct{}{}
		select {
		case <-calls:
		case <-time.After(wait):
			t.Fatalf("run %d after a poke did not come", i+1)
		}
	}
	close(done)
	waitClosed(t, stopped, "AfterPoke after done")
	if len(calls) != 0 {
		t.Errorf("%d runs without a poke", len(calls))
	}
}

// TestGo: a goroutine started with Go is waited for by both the join's and
// the service's WaitGroup.
func TestGo(t *testing.T) {
	var join, svc sync.WaitGroup
	release := make(chan struct{})
	ran := false
	Go(&join, &svc, func() {
		<-release
		ran = true
	})
	close(release)
	join.Wait()
	if !ran {
		t.Error("join's Wait returned before the goroutine ended")
	}
	svc.Wait()
}
