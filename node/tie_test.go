package node

import (
	"fmt"
	"testing"

	"github.com/backchannel/backchannel/storage"
)

// TestSimultaneousStart: two contacts write to each other before either has
// a session, so both start one at once. Every message arrives, and the
// conversation goes on over the one session both keep.
func TestSimultaneousStart(t *testing.T) {
	a := newTestNode(t, "")
	b := newTestNode(t, "")
	if _, err := a.AddContact(t.Context(), b.invite(), "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddContact(t.Context(), a.invite(), "a"); err != nil {
		t.Fatal(err)
	}
	var fromA, fromB []storage.Message
	for i := range 5 {
		fromA = append(fromA, a.send(b.ID(), fmt.Sprint("a", i)))
		fromB = append(fromB, b.send(a.ID(), fmt.Sprint("b", i)))
	}
	for i := range fromA {
		a.waitState(b.ID(), fromA[i].ID, storage.StateDelivered)
		b.waitState(a.ID(), fromB[i].ID, storage.StateDelivered)
	}
	for round := range 3 {
		ma := a.send(b.ID(), fmt.Sprint("later a", round))
		mb := b.send(a.ID(), fmt.Sprint("later b", round))
		a.waitState(b.ID(), ma.ID, storage.StateDelivered)
		b.waitState(a.ID(), mb.ID, storage.StateDelivered)
	}
	for _, c := range []struct {
		n    *testNode
		from *testNode
	}{{a, b}, {b, a}} {
		ms, err := c.n.Messages(c.from.ID(), 100, zeroTime)
		if err != nil {
			t.Fatal(err)
		}
		inbound := 0
		for _, m := range ms {
			if m.Direction == storage.Inbound {
				inbound++
			}
		}
		if inbound != 8 {
			t.Fatalf("%s holds %d messages from %s, want 8", c.n.ID().ShortString(), inbound, c.from.ID().ShortString())
		}
	}
	// Both ended up sending on the same session: the one started by the lower key.
	ia, tieA, okA := a.dm.SessionInitiator(b.ID())
	ib, tieB, okB := b.dm.SessionInitiator(a.ID())
	if !okA || !okB {
		t.Fatal("a side has no session")
	}
	t.Logf("tie happened: %v", tieA && tieB)
	if ia != ib {
		t.Fatalf("the two sides send on different sessions (initiators %s and %s)", ia, ib)
	}
}
