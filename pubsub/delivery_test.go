package pubsub

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// TestDeliveryStar publishes from every host of a five-host star: every
// host receives every other host's message exactly once, under its
// content-hash ID. The fifth host publishes right after joining, before its
// mesh formed; readiness keeps that message from being lost.
//
// The others publish only once the whole mesh has formed: GossipSub does not
// send a message to a peer that joins the sender's mesh after it was
// forwarded and before gossip about it was due (that gap is repaired by the
// node's sync, not here).
func TestDeliveryStar(t *testing.T) {
	const n = 5
	const name = "/test/star"
	ps := make([]*PubSub, n)
	ws := make([]*meshTracker, n)
	for i := range ps {
		ps[i], ws[i] = meshPubSub(t)
	}
	topics := make([]*Topic, n)
	for i := range n - 1 {
		if i > 0 {
			connect(t, ps[i], ps[0])
		}
		topics[i] = join(t, ps[i], name, acceptAll)
	}
	waitMesh(t, ws[0], name, ps[1:n-1]...)
	for i := 1; i < n-1; i++ {
		waitMesh(t, ws[i], name, ps[0])
	}

	last := n - 1
	connect(t, ps[last], ps[0])
	topics[last] = join(t, ps[last], name, acceptAll)
	publish(t, topics[last], fmt.Sprintf("from %d", last)) // right after Join
	waitMesh(t, ws[0], name, ps[last])
	waitMesh(t, ws[last], name, ps[0])
	for i := range n - 1 {
		publish(t, topics[i], fmt.Sprintf("from %d", i))
	}

	for i, top := range topics {
		got := make(map[string]int)
		for len(got) < n-1 {
			m := next(t, top)
			if want := DefaultMessageID(name, m.Data); m.ID != want {
				t.Errorf("host %d: ID %s, want content hash %s", i, m.ID, want)
			}
			got[string(m.Data)]++
		}
		if err := top.Close(); err != nil {
			t.Fatal(err)
		}
		for m := range top.Messages() { // whatever was still buffered
			if !m.Local {
				got[string(m.Data)]++
			}
		}
		for j := range n {
			want := 1
			if j == i {
				want = 0
			}
			if c := got[fmt.Sprintf("from %d", j)]; c != want {
				t.Errorf("host %d received host %d's message %d times, want %d", i, j, c, want)
			}
		}
	}
}

// TestLocalDelivery: a publisher sees its own message, marked Local.
func TestLocalDelivery(t *testing.T) {
	a, b := testPubSub(t), testPubSub(t)
	connect(t, a, b)
	ta := join(t, a, "/test/local", acceptAll)
	join(t, b, "/test/local", acceptAll)
	publish(t, ta, "mine")
	select {
	case m := <-ta.Messages():
		if !m.Local || string(m.Data) != "mine" || m.ReceivedFrom != a.host.ID() {
			t.Errorf("got %+v, want own message marked Local", m)
		}
	case <-time.After(deadline):
		t.Fatal("own message not delivered")
	}
}

// TestPublishAlone: with no peer in the topic, Publish returns when its
// context ends, with ErrNotReady and the context's error.
func TestPublishAlone(t *testing.T) {
	top := join(t, testPubSub(t), "/test/alone", acceptAll)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := top.Publish(ctx, []byte("nobody hears"))
	if !errors.Is(err, ErrNotReady) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish alone: %v, want ErrNotReady and DeadlineExceeded", err)
	}
}

func TestCustomMessageID(t *testing.T) {
	id := func(topic string, data []byte) string { return "id:" + string(data) }
	a := testPubSub(t, func(c *Config) { c.MessageID = id })
	b := testPubSub(t, func(c *Config) { c.MessageID = id })
	connect(t, a, b)
	ta := join(t, a, "/test/id", acceptAll)
	tb := join(t, b, "/test/id", acceptAll)
	publish(t, ta, "x")
	if m := next(t, tb); m.ID != "id:x" {
		t.Errorf("ID %q, want id:x", m.ID)
	}
}

// TestDecodedReachesReader: what a DecodingValidator returns for a message
// it accepts reaches the reader beside the message, on the receiving host
// and on the publisher's own copy; a plain Validator's messages carry nil.
func TestDecodedReachesReader(t *testing.T) {
	a, b := testPubSub(t), testPubSub(t)
	connect(t, a, b)
	decode := func(_ context.Context, from peer.ID, data []byte) (Result, any) {
		return Accept, fmt.Sprintf("%s from %s", data, from.ShortString())
	}
	ta, err := a.JoinDecoding("/test/decoded", decode)
	if err != nil {
		t.Fatal(err)
	}
	tb, err := b.JoinDecoding("/test/decoded", decode)
	if err != nil {
		t.Fatal(err)
	}
	publish(t, ta, "x")
	want := "x from " + a.host.ID().ShortString()
	if m := next(t, tb); m.Decoded != want {
		t.Errorf("receiver: Decoded %v, want %q", m.Decoded, want)
	}
	select {
	case m := <-ta.Messages():
		if !m.Local || m.Decoded != want {
			t.Errorf("publisher: got %+v, want its own message with Decoded %q", m, want)
		}
	case <-time.After(deadline):
		t.Fatal("own message not delivered")
	}

	c, d := testPubSub(t), testPubSub(t)
	connect(t, c, d)
	tc := join(t, c, "/test/plain", acceptAll)
	td := join(t, d, "/test/plain", acceptAll)
	publish(t, tc, "y")
	if m := next(t, td); m.Decoded != nil {
		t.Errorf("plain validator: Decoded %v, want nil", m.Decoded)
	}
}

func TestJoinDecodingNeedsValidator(t *testing.T) {
	if _, err := testPubSub(t).JoinDecoding("/test/none", nil); !errors.Is(err, ErrNoValidator) {
		t.Fatalf("JoinDecoding(nil): %v, want ErrNoValidator", err)
	}
}
