package dm

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/storage"
)

// checkTable checks the table's bookkeeping: idle entries are exactly those
// without references, idleBytes is their weight, and nothing is over the
// bounds once no entry is held.
func checkTable(t *testing.T, tbl *peerTable) {
	t.Helper()
	tbl.mu.Lock()
	defer tbl.mu.Unlock()
	idle, bytes := 0, 0
	for e := tbl.idle.Front(); e != nil; e = e.Next() {
		ps := e.Value.(*peerState)
		if ps.refs != 0 || tbl.m[ps.id] != ps || ps.idle != e {
			t.Fatalf("idle list holds %s with %d references (in the table: %v)", ps.id, ps.refs, tbl.m[ps.id] == ps)
		}
		idle++
		bytes += ps.cost
	}
	held := 0
	for p, ps := range tbl.m {
		if ps.id != p {
			t.Fatalf("entry of %s filed under %s", ps.id, p)
		}
		if ps.refs > 0 {
			held++
		} else if ps.idle == nil {
			t.Fatalf("%s has no reference and is not in the idle list", p)
		}
	}
	if idle+held != len(tbl.m) || bytes != tbl.idleBytes {
		t.Fatalf("%d idle + %d held entries, table has %d; idle weigh %d, counted %d", idle, held, len(tbl.m), bytes, tbl.idleBytes)
	}
	if idle > 0 && (len(tbl.m) > tbl.maxEntries || tbl.idleBytes > tbl.maxBytes) {
		t.Fatalf("%d entries (%d bytes idle) kept over the bounds %d / %d", len(tbl.m), tbl.idleBytes, tbl.maxEntries, tbl.maxBytes)
	}
}

func testPeer(i int) peer.ID { return peer.ID(fmt.Sprintf("peer-%d", i)) }

// TestPeerTableBounded: a stream of distinct peers, each used once (a
// flood of fresh identities sending one envelope), leaves at most the
// cap's entries, and the byte budget evicts heavy entries too.
func TestPeerTableBounded(t *testing.T) {
	tbl := newPeerTable()
	tbl.maxEntries = 16
	for i := range 1000 {
		ps := tbl.acquire(testPeer(i))
		ps.mu.Lock()
		ps.loaded = true
		ps.mu.Unlock()
		tbl.release(ps)
	}
	checkTable(t, tbl)
	if n := len(tbl.m); n > 16 {
		t.Fatalf("%d entries after 1,000 peers, cap 16", n)
	}
	for i := 1000 - 16; i < 1000; i++ { // the most recent stay
		if _, ok := tbl.m[testPeer(i)]; !ok {
			t.Fatalf("recently used %s was evicted", testPeer(i))
		}
	}

	// Bytes: entries whose sessions encode to 10 KB weigh 40.5 KB each.
	tbl.maxBytes = 100_000
	for i := range 10 {
		ps := tbl.acquire(testPeer(2000 + i))
		ps.mu.Lock()
		ps.size = 10_000
		ps.mu.Unlock()
		tbl.release(ps)
		checkTable(t, tbl)
	}
	if tbl.idleBytes > 100_000 {
		t.Fatalf("idle entries weigh %d bytes, budget 100,000", tbl.idleBytes)
	}
	if _, ok := tbl.m[testPeer(2009)]; !ok {
		t.Fatal("the entry just released was evicted")
	}
	if _, ok := tbl.m[testPeer(2000)]; ok {
		t.Fatal("the oldest heavy entry is still cached over the byte budget")
	}
}

// TestPeerTableLRU: the least recently released idle entry goes first.
func TestPeerTableLRU(t *testing.T) {
	tbl := newPeerTable()
	tbl.maxEntries = 2
	use := func(p peer.ID) { tbl.release(tbl.acquire(p)) }
	use("a")
	use("b")
	use("a") // a is now more recent than b
	use("c")
	checkTable(t, tbl)
	if _, ok := tbl.m["b"]; ok {
		t.Fatal("b, least recently used, is still cached")
	}
	if _, ok := tbl.m["a"]; !ok {
		t.Fatal("a, used again, was evicted")
	}
}

// TestPeerTableHeld: an acquired entry is never evicted, however many peers
// come and go meanwhile, and a second acquire of its peer returns it; held
// entries may take the table over its cap, which it comes back to as they
// are released.
func TestPeerTableHeld(t *testing.T) {
	tbl := newPeerTable()
	tbl.maxEntries = 2
	held := tbl.acquire("held")
	held.mu.Lock()
	held.outboxFloor = time.Unix(1, 0)
	held.mu.Unlock()
	for i := range 100 {
		tbl.release(tbl.acquire(testPeer(i)))
		checkTable(t, tbl)
	}
	again := tbl.acquire("held")
	if again != held {
		t.Fatal("a second acquire of a held peer returned another entry")
	}
	tbl.release(again)
	for i := range 100 {
		tbl.release(tbl.acquire(testPeer(i)))
	}
	if tbl.m["held"] != held || held.outboxFloor.IsZero() {
		t.Fatal("the held entry was evicted or replaced")
	}

	// Five held entries over a cap of two: all stay until released.
	var hs []*peerState
	for i := range 5 {
		hs = append(hs, tbl.acquire(testPeer(500+i)))
	}
	checkTable(t, tbl)
	for i, ps := range hs {
		if tbl.m[testPeer(500+i)] != ps {
			t.Fatalf("held %s evicted", testPeer(500+i))
		}
	}
	for _, ps := range hs {
		tbl.release(ps)
	}
	tbl.release(held)
	checkTable(t, tbl)
	if len(tbl.m) > 2 {
		t.Fatalf("%d entries once all were released, cap 2", len(tbl.m))
	}
}

// TestPeerTableConcurrent runs many goroutines acquiring, locking and
// releasing random peers over a cap far below the peers in use, and checks
// that a peer never has two live entries: everyone holding a peer at once
// holds the same entry, and its mutex excludes them all.
func TestPeerTableConcurrent(t *testing.T) {
	const (
		workers = 16
		rounds  = 2000
		peers   = 24
	)
	tbl := newPeerTable()
	tbl.maxEntries = 4
	var (
		mu      sync.Mutex
		holders [peers]int
		live    [peers]*peerState
		inside  [peers]atomic.Int32
		failed  atomic.Value
	)
	fail := func(format string, args ...any) { failed.CompareAndSwap(nil, fmt.Sprintf(format, args...)) }
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(uint64(w), 1))
			for range rounds {
				i := r.IntN(peers)
				ps := tbl.acquire(testPeer(i))
				mu.Lock()
				if holders[i] > 0 && live[i] != ps {
					fail("two live entries for %s", testPeer(i))
				}
				holders[i]++
				live[i] = ps
				mu.Unlock()
				ps.mu.Lock()
				if n := inside[i].Add(1); n != 1 {
					fail("%d goroutines inside %s's lock at once", n, testPeer(i))
				}
				if r.IntN(4) == 0 { // a nested acquire, as deliverDirect and encryptQueued do
					if again := tbl.acquire(testPeer(i)); again != ps {
						fail("a nested acquire of %s returned another entry", testPeer(i))
					} else {
						tbl.release(again)
					}
				}
				inside[i].Add(-1)
				ps.mu.Unlock()
				mu.Lock()
				holders[i]--
				mu.Unlock()
				tbl.release(ps)
			}
		})
	}
	wg.Wait()
	if f := failed.Load(); f != nil {
		t.Fatal(f)
	}
	checkTable(t, tbl)
	if len(tbl.m) > 4 {
		t.Fatalf("%d entries with none held, cap 4", len(tbl.m))
	}
}

// dmNode is a 1:1 service with its own store and identity, wired enough to
// store sends, encrypt the outbox and receive frames without a network.
type dmNode struct {
	*Service
	id peer.ID
}

func newDMNode(t *testing.T, now *time.Time) dmNode {
	t.Helper()
	st, err := storage.Open(storage.Config{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	life := env.NewLifetime()
	t.Cleanup(func() { life.Cancel(); life.Wait() }) // before the store closes
	id := identity.New()
	e := env.Env{Store: st, Identity: id, Bus: event.NewBus(), Log: slog.New(slog.DiscardHandler), Life: life, Clock: &env.SendClock{}}
	d := &Service{env: e, peers: newPeerTable(), cfg: Config{
		Contacts: contacts.New(e), Gate: openGate{oneTime: true}, MaxTextBytes: 1 << 10,
		Now: func() time.Time { return *now },
	}}
	d.out = newOutbox(d)
	return dmNode{d, id.Public().Key.PeerID()}
}

// send stores a text to p and returns its frames as p receives them,
// dequeued from the outbox as if acked.
func (n dmNode) send(t *testing.T, p peer.ID, body string) []*dmpb.Envelope {
	t.Helper()
	r := &sendRequest{to: p, out: Outgoing{Kind: KindText, Body: body}, done: make(chan struct{})}
	n.commitSends([]*sendRequest{r})
	if r.err != nil {
		t.Fatalf("send %q: %v", body, r.err)
	}
	entries, err := n.encryptQueued(p)
	if err != nil {
		t.Fatalf("encrypt %q: %v", body, err)
	}
	var envs []*dmpb.Envelope
	var acked []ackedEntry
	for _, e := range entries {
		var f dmpb.Frame
		if err := proto.Unmarshal(e.Frame, &f); err != nil {
			t.Fatal(err)
		}
		envs = append(envs, f.GetEnvelope())
		acked = append(acked, ackedEntry{e.ID, e.Created})
	}
	if err := n.dequeueAll(p, acked, storage.StateDelivered); err != nil {
		t.Fatal(err)
	}
	return envs
}

// receive hands n the envelopes from p and checks that n stored the texts.
func (n dmNode) receive(t *testing.T, from peer.ID, envs []*dmpb.Envelope, want ...string) {
	t.Helper()
	acks, err := n.Service.receive(from, envs, false)
	if err != nil {
		t.Fatalf("receive %q: %v", want, err)
	}
	for _, a := range acks {
		if a.Status != dmpb.Ack_OK {
			t.Fatalf("receive %q: ack %v", want, a)
		}
	}
	var ms []storage.Message
	if err := n.env.Store.View(func(tx *storage.Txn) (err error) {
		ms, err = tx.Messages(from, 100, time.Time{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, m := range ms {
		if m.Direction == storage.Inbound {
			got[m.Body] = true
		}
	}
	for _, w := range want {
		if !got[w] {
			t.Fatalf("%q was not stored; inbound: %v", w, got)
		}
	}
}

// evict makes n's table drop its idle entry for p, by using other peers
// over a cap of one.
func (n dmNode) evict(t *testing.T, p peer.ID) {
	t.Helper()
	n.peers.mu.Lock()
	n.peers.maxEntries = 1
	n.peers.mu.Unlock()
	n.peers.release(n.peers.acquire("someone else"))
	n.peers.mu.Lock()
	_, cached := n.peers.m[p]
	n.peers.mu.Unlock()
	if cached {
		t.Fatalf("%s is still cached", p)
	}
}

// TestSessionsAfterEviction: once a peer's cache entry has been evicted,
// messages to and from it still encrypt and decrypt on the same sessions,
// reloaded from the store, in both directions, and the session is not
// restarted.
func TestSessionsAfterEviction(t *testing.T) {
	now := time.Now()
	alice, bob := newDMNode(t, &now), newDMNode(t, &now)
	// Bob has accepted Alice, so his replies need no acceptance first.
	if err := bob.env.Store.Update(func(tx *storage.Txn) error {
		return tx.PutContact(storage.Contact{Peer: alice.id, State: storage.ContactAccepted, Created: now, Updated: now})
	}); err != nil {
		t.Fatal(err)
	}
	if err := alice.ensureSessionFrom(context.Background(), bob.id, func(context.Context, peer.ID) (identity.Bundle, error) {
		return bob.mintBundle(now, alice.id)
	}); err != nil {
		t.Fatal(err)
	}
	bob.receive(t, alice.id, alice.send(t, bob.id, "hello"), "hello")
	alice.receive(t, bob.id, bob.send(t, alice.id, "hi"), "hi")
	initiator, _, ok := alice.SessionInitiator(bob.id)
	if !ok || initiator != alice.env.Identity.Public().Key {
		t.Fatal("alice has no session she started with bob")
	}

	for round := range 3 {
		alice.evict(t, bob.id)
		bob.evict(t, alice.id)
		a, b := fmt.Sprintf("from alice %d", round), fmt.Sprintf("from bob %d", round)
		bob.receive(t, alice.id, alice.send(t, bob.id, a), a)
		bob.evict(t, alice.id)
		alice.receive(t, bob.id, bob.send(t, alice.id, b), b)
	}
	for _, n := range []struct {
		dmNode
		p peer.ID
	}{{alice, bob.id}, {bob, alice.id}} {
		got, prev, ok := n.SessionInitiator(n.p)
		if !ok || got != alice.env.Identity.Public().Key || prev {
			t.Fatalf("after evictions: session started by alice %v, previous kept %v, any %v", got == alice.env.Identity.Public().Key, prev, ok)
		}
	}
}

// TestEnsureSessionKeepsOneStartedMeanwhile: while Alice fetches Bob's
// bundle to start a session, Bob's first message starts one, and a failed
// transaction drops Alice's cache. Alice keeps Bob's session (read again
// from the store) instead of writing hers over it.
func TestEnsureSessionKeepsOneStartedMeanwhile(t *testing.T) {
	now := time.Now()
	alice, bob := newDMNode(t, &now), newDMNode(t, &now)
	for _, n := range []struct {
		dmNode
		p peer.ID
	}{{alice, bob.id}, {bob, alice.id}} {
		if err := n.env.Store.Update(func(tx *storage.Txn) error {
			return tx.PutContact(storage.Contact{Peer: n.p, State: storage.ContactAccepted, Created: now, Updated: now})
		}); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := alice.ensureSessionFrom(ctx, bob.id, func(context.Context, peer.ID) (identity.Bundle, error) {
		if err := bob.ensureSessionFrom(ctx, alice.id, func(context.Context, peer.ID) (identity.Bundle, error) {
			return alice.mintBundle(now, bob.id)
		}); err != nil {
			return identity.Bundle{}, err
		}
		alice.receive(t, bob.id, bob.send(t, alice.id, "first"), "first")
		ps := alice.peers.acquire(bob.id)
		ps.mu.Lock()
		ps.invalidate() // as after a failed transaction
		ps.mu.Unlock()
		alice.peers.release(ps)
		return bob.mintBundle(now, alice.id)
	}); err != nil {
		t.Fatal(err)
	}
	if got, _, ok := alice.SessionInitiator(bob.id); !ok || got != bob.env.Identity.Public().Key {
		t.Fatalf("Alice's session with Bob: started by Bob %v, any %v; want Bob's kept", got == bob.env.Identity.Public().Key, ok)
	}
	bob.receive(t, alice.id, alice.send(t, bob.id, "reply"), "reply")
}
