package p2p

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	mh "github.com/multiformats/go-multihash"
)

// fakeDHT is a routing table that has a connected peer or not, and a
// provide that reports each call and fails while failing is set.
type fakeDHT struct {
	t       *testing.T
	peer    atomic.Bool
	failing atomic.Bool
	calls   chan cid.Cid
	noPeer  chan struct{} // gets a value when the provider saw no peer
}

func newFakeDHT(t *testing.T) *fakeDHT {
	return &fakeDHT{t: t, calls: make(chan cid.Cid), noPeer: make(chan struct{}, 1)}
}

func (f *fakeDHT) hasPeer() bool {
	if f.peer.Load() {
		return true
	}
	select {
	case f.noPeer <- struct{}{}:
	default:
	}
	return false
}

func (f *fakeDHT) provide(ctx context.Context, key cid.Cid) error {
	if !f.peer.Load() {
		f.t.Errorf("provided %s with no peer", key)
	}
	select {
	case f.calls <- key:
	case <-ctx.Done():
		return ctx.Err()
	}
	if f.failing.Load() {
		return errors.New("failed to find any peer in table")
	}
	return nil
}

// waitNoPeer waits until the provider looks at the table and finds no
// peer. The provider runs in one goroutine, so after a provide call what
// it signalled before is stale, and dropped here.
func (f *fakeDHT) waitNoPeer() {
	f.t.Helper()
	select {
	case <-f.noPeer:
	default:
	}
	select {
	case <-f.noPeer:
	case <-time.After(10 * time.Second):
		f.t.Fatal("the provider did not look at the routing table")
	}
}

// next waits for the next provide call.
func (f *fakeDHT) next(what string) cid.Cid {
	f.t.Helper()
	select {
	case k := <-f.calls:
		return k
	case <-time.After(10 * time.Second):
		f.t.Fatalf("timed out waiting for %s", what)
		return cid.Undef
	}
}

func testKey(s string) cid.Cid {
	h, err := mh.Sum([]byte(s), mh.SHA2_256, -1)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// runProvider runs p over f until the test ends.
func runProvider(t *testing.T, p Provider, f *fakeDHT) {
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { p.run(ctx, f.hasPeer, f.provide) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
}

// TestProviderWaitsRetriesAndReannounces: nothing is provided while the
// routing table has no connected peer; the first peer gets every key
// provided; a failure is retried after a backoff; and a node that lost
// every peer provides again as soon as it has one, long before the
// reprovide is due.
func TestProviderWaitsRetriesAndReannounces(t *testing.T) {
	a, b := testKey("a"), testKey("b")
	f := newFakeDHT(t)
	f.failing.Store(true)
	runProvider(t, Provider{Keys: []cid.Cid{a, b}, Reprovide: time.Hour}, f)

	f.waitNoPeer()
	f.peer.Store(true) // the fake fails the provide if it comes before
	if k := f.next("the first announcement"); k != a {
		t.Fatalf("first provided %s, want %s", k, a)
	}
	failed := time.Now()
	f.failing.Store(false)
	if k := f.next("the retry"); k != a {
		t.Fatalf("retry provided %s, want %s first", k, a)
	}
	if d := time.Since(failed); d < retryMin/2 {
		t.Fatalf("retried after %v, before the backoff", d)
	}
	if k := f.next("the retry's second key"); k != b {
		t.Fatalf("retry provided %s, want %s", k, b)
	}

	// Every peer lost, then one found: announced again at once.
	f.peer.Store(false)
	f.waitNoPeer()
	f.peer.Store(true)
	if k := f.next("the announcement after the table refilled"); k != a {
		t.Fatalf("provided %s, want %s", k, a)
	}
	f.next("the second key after the table refilled")
}

// TestProviderReprovides: after a success the keys are provided again
// every Reprovide.
func TestProviderReprovides(t *testing.T) {
	k := testKey("k")
	f := newFakeDHT(t)
	f.peer.Store(true)
	runProvider(t, Provider{Keys: []cid.Cid{k}, Reprovide: 100 * time.Millisecond}, f)
	for range 3 {
		f.next("an announcement")
	}
}

func TestBackoff(t *testing.T) {
	for n := 1; n < 70; n++ {
		want := min(retryMin<<min(n-1, 6), retryMax)
		if d := Backoff(retryMin, retryMax, n); d < want/2 || d > want {
			t.Errorf("Backoff(%v, %v, %d) = %v, want in [%v, %v]", retryMin, retryMax, n, d, want/2, want)
		}
	}
}
