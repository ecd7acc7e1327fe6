package node

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

func withBootstrap(addr string) func(*Config) {
	return func(c *Config) { c.Bootstrap = []string{addr} }
}

// TestOfflineDelivery: with B stopped, A sends 100 messages; B comes back on
// another port, A finds it through the DHT and every message arrives once,
// in order, and shows delivered at A.
func TestOfflineDelivery(t *testing.T) {
	// useTCP: its peer restarts under the same key.
	useTCP(t)
	d := newTestNode(t, "") // a DHT node both know
	boot := d.Addrs()[0].String()
	a := newTestNode(t, "", withBootstrap(boot))
	bHome := t.TempDir()
	b := newTestNode(t, bHome, withBootstrap(boot))
	if _, err := a.AddContact(t.Context(), b.invite(), "bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddContact(t.Context(), a.invite(), "alice"); err != nil {
		t.Fatal(err)
	}
	bID := b.ID()
	b.stop()

	const count = 100
	var sent []storage.Message
	for i := range count {
		sent = append(sent, a.send(bID, fmt.Sprint("offline ", i)))
	}

	b = newTestNode(t, bHome, withBootstrap(boot)) // new port: A must look it up
	for _, m := range sent {
		a.waitState(bID, m.ID, storage.StateDelivered)
	}
	got, err := b.Messages(a.ID(), 2*count, zeroTime)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != count {
		t.Fatalf("b has %d messages, want %d", len(got), count)
	}
	for i, m := range got { // newest first
		want := sent[count-1-i]
		if m.ID != want.ID || m.Body != want.Body {
			t.Fatalf("message %d is %q, want %q (order or duplicate)", i, m.Body, want.Body)
		}
	}
	assertNoOutbox(t, a, bID)
}

func assertNoOutbox(t *testing.T, n *testNode, p peer.ID) {
	t.Helper()
	err := n.store.View(func(tx *storage.Txn) error {
		es, err := tx.Outbox(p)
		if len(es) != 0 {
			return fmt.Errorf("%d entries left in the outbox", len(es))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestOutboxCancelAndFail: a message to a peer that never comes online is
// listed as waiting; cancelling it makes it failed and stops the outbox; one
// left waiting past FailAfter fails by itself; a send retried with the same
// key stores one message.
func TestOutboxCancelAndFail(t *testing.T) {
	a := newTestNode(t, "", func(c *Config) { c.OutboxFailAfter = 300 * time.Millisecond })
	away := newTestNode(t, "")
	awayID := away.ID()
	if _, err := a.AddContact(t.Context(), away.invite(), "away"); err != nil {
		t.Fatal(err)
	}
	away.stop()

	m1, err := a.Send(t.Context(), awayID, Outgoing{Body: "are you there?", Key: "k1"})
	if err != nil {
		t.Fatal(err)
	}
	again, err := a.Send(t.Context(), awayID, Outgoing{Body: "are you there?", Key: "k1"})
	if err != nil || again.ID != m1.ID {
		t.Fatalf("retried send: %v, %v; want the first message %s", again.ID, err, m1.ID)
	}
	if ms, _ := a.Messages(awayID, 10, zeroTime); len(ms) != 1 {
		t.Fatalf("%d messages after a retried send, want 1", len(ms))
	}
	pending, err := a.PendingMessages()
	if err != nil || len(pending) != 1 || pending[0].ID != m1.ID {
		t.Fatalf("pending: %v, %v", pending, err)
	}
	got, err := a.CancelMessage(m1.ID)
	if err != nil || got.State != storage.StateFailed {
		t.Fatalf("cancel: %v, %v", got.State, err)
	}
	if a.message(awayID, m1.ID).State != storage.StateFailed {
		t.Fatal("cancelled message not failed in the store")
	}
	if _, err := a.CancelMessage(m1.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("cancelling twice: %v, want ErrNotFound", err)
	}
	assertNoOutbox(t, a, awayID)

	m2 := a.send(awayID, "still there?")
	a.waitState(awayID, m2.ID, storage.StateFailed)
	assertNoOutbox(t, a, awayID)
}
