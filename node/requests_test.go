package node

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage"
)

// TestRequestInbox is the walk-through: a stranger's message lands
// in requests, not the inbox; accept, decline and block do what they say.
func TestRequestInbox(t *testing.T) {
	a := newTestNode(t, "")
	b := newTestNode(t, "")
	c := newTestNode(t, "")
	if err := a.SetProfileName("Alice"); err != nil {
		t.Fatal(err)
	}
	if err := b.SetProfileName("Bob"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*testNode{b, c} {
		if _, err := s.AddContact(context.Background(), a.invite(), "alice"); err != nil {
			t.Fatal(err)
		}
	}
	hi := requestLandsInRequests(t, a, b)
	acceptMovesToInbox(t, a, b, hi)
	declineThenBlock(t, a, c)

	// Unblocked, C is a stranger again and its session still works.
	if err := a.Unblock(c.ID()); err != nil {
		t.Fatal(err)
	}
	c4 := c.send(a.ID(), "friends again?")
	c.waitState(a.ID(), c4.ID, storage.StateDelivered)
	if reqs, _ := a.Requests(); !threadPeers(reqs)[c.ID()] {
		t.Fatal("unblocked peer's message not in requests")
	}
}

// requestLandsInRequests: B, a stranger, messages A; the thread is in A's
// requests only, and reading it sends B no receipt.
func requestLandsInRequests(t *testing.T, a, b *testNode) storage.Message {
	t.Helper()
	hi := b.send(a.ID(), "hello from b")
	a.waitEvent("b's request", func(e Event) bool { return e.Type == EventRequest && e.Peer == b.ID() })
	b.waitState(a.ID(), hi.ID, storage.StateDelivered)
	reqs, err := a.Requests()
	if err != nil {
		t.Fatal(err)
	}
	inbox, err := a.Inbox()
	if err != nil {
		t.Fatal(err)
	}
	if !threadPeers(reqs)[b.ID()] || threadPeers(inbox)[b.ID()] {
		t.Fatalf("b's thread should be in requests only: requests %v, inbox %v", threadPeers(reqs), threadPeers(inbox))
	}
	// Reading a request sends no receipt.
	if err := a.MarkRead(b.ID()); err != nil {
		t.Fatal(err)
	}
	a.waitUntil("a's outbox empty", func() bool { return a.Status().OutboxPending == 0 })
	if m := b.message(a.ID(), hi.ID); m.State != storage.StateDelivered {
		t.Fatalf("b's message is %s before accept, want delivered", m.State)
	}
	return hi
}

// acceptMovesToInbox: A accepts B; the thread moves to the inbox, both learn
// each other's profile, hi (read while a request) gets its receipt, and
// read receipts flow from then on.
func acceptMovesToInbox(t *testing.T, a, b *testNode, hi storage.Message) {
	t.Helper()
	if err := a.Accept(context.Background(), b.ID()); err != nil {
		t.Fatal(err)
	}
	b.waitEvent("a's profile", func(e Event) bool {
		return e.Type == EventContact && e.Peer == a.ID() && e.Contact.ProfileName == "Alice"
	})
	a.waitEvent("b's profile in return", func(e Event) bool {
		return e.Type == EventContact && e.Peer == b.ID() && e.Contact.ProfileName == "Bob"
	})
	// Read while a request, it gets its receipt once accepted.
	b.waitState(a.ID(), hi.ID, storage.StateRead)
	inbox, _ := a.Inbox()
	reqs, _ := a.Requests()
	if !threadPeers(inbox)[b.ID()] || threadPeers(reqs)[b.ID()] {
		t.Fatal("accepted thread did not move to the inbox")
	}
	// Now read receipts flow.
	second := b.send(a.ID(), "thanks")
	a.waitEvent("b's second message", func(e Event) bool { return e.Type == EventMessage && e.Peer == b.ID() })
	if err := a.MarkRead(b.ID()); err != nil {
		t.Fatal(err)
	}
	b.waitState(a.ID(), second.ID, storage.StateRead)
}

// declineThenBlock: C, another stranger, is declined silently; C writes
// again and A blocks it: later messages are acked and dropped.
func declineThenBlock(t *testing.T, a, c *testNode) {
	t.Helper()
	c1 := c.send(a.ID(), "buy my stuff")
	a.waitEvent("c's request", func(e Event) bool { return e.Type == EventRequest && e.Peer == c.ID() })
	c.waitState(a.ID(), c1.ID, storage.StateDelivered)
	if err := a.Decline(c.ID()); err != nil {
		t.Fatal(err)
	}
	if reqs, _ := a.Requests(); threadPeers(reqs)[c.ID()] {
		t.Fatal("declined thread still in requests")
	}
	c2 := c.send(a.ID(), "again")
	a.waitEvent("c's second request", func(e Event) bool { return e.Type == EventRequest && e.Peer == c.ID() })
	c.waitState(a.ID(), c2.ID, storage.StateDelivered)
	if err := a.Block(c.ID()); err != nil {
		t.Fatal(err)
	}
	c3 := c.send(a.ID(), "you can't block me")
	c.waitState(a.ID(), c3.ID, storage.StateDelivered)
	if ms, _ := a.Messages(c.ID(), 10, zeroTime); len(ms) != 0 {
		t.Fatalf("blocked peer's messages stored: %d", len(ms))
	}
	if reqs, _ := a.Requests(); threadPeers(reqs)[c.ID()] {
		t.Fatal("blocked peer in requests")
	}
}

// TestStrangerProfileWaitsForAccept: a stranger's profile is not kept while
// its thread is a request, however often it sends it; once accepted, the
// profile it sends in answer to the acceptance shows.
func TestStrangerProfileWaitsForAccept(t *testing.T) {
	a := newTestNode(t, "")
	b := newTestNode(t, "")
	const lie = "Your Bank (verified)"
	if err := b.SetProfileName(lie); err != nil {
		t.Fatal(err)
	}
	if _, err := b.AddContact(context.Background(), a.invite(), "a"); err != nil {
		t.Fatal(err)
	}
	hi := b.send(a.ID(), "please confirm your account")
	b.waitState(a.ID(), hi.ID, storage.StateDelivered)
	// Sent unasked, before and after the thread exists at a: both dropped.
	for range 2 {
		if err := b.dm.SendProfile(a.ID()); err != nil {
			t.Fatal(err)
		}
		b.waitUntil("b's profile acked", func() bool { return b.Status().OutboxPending == 0 })
	}
	cs, err := a.Contacts()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Peer == b.ID() && c.ProfileName != "" {
			t.Fatalf("a stranger's profile name %q kept before accept", c.ProfileName)
		}
	}
	if err := a.Accept(context.Background(), b.ID()); err != nil {
		t.Fatal(err)
	}
	a.waitEvent("b's profile once accepted", func(e Event) bool {
		return e.Type == EventContact && e.Peer == b.ID() && e.Contact.ProfileName == lie
	})
}

// TestBlockedLooksPending: a blocked peer gets back, envelope by envelope,
// byte for byte what a stranger whose request stays pending gets: acks
// until its thread would be full, then RETRY_LATER with the same reason, a
// resent message acked as a duplicate, the stream never reset.
func TestBlockedLooksPending(t *testing.T) {
	a := newTestNode(t, "", func(c *Config) {
		c.Limits = DefaultLimits
		c.Limits.StrangerRate, c.Limits.StrangerBurst = 1e6, 1e6 // the thread cap, not the clock, decides
		c.Limits.AllStrangersRate, c.Limits.AllStrangersBurst = 1e6, 1e6
	})
	pending, blocked := newRawPeer(t), newRawPeer(t)
	// answers sends n messages, one per stream, then the first one again,
	// and returns the ack frames as encoded (message IDs cleared).
	answers := func(rp *rawPeer, n int) []string {
		var out []string
		var first []byte
		for i := range n + 1 {
			f := first
			if i < n {
				f = rp.envelope(fmt.Sprintf("message %d", i))
			}
			if i == 0 {
				first = f
			}
			acks, reset := rp.exchange(a, f, 1)
			if reset || len(acks) != 1 {
				t.Fatalf("message %d: %d acks, reset %v", i, len(acks), reset)
			}
			acks[0].Id = nil
			b, err := proto.Marshal(acks[0])
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%x (%v %q)", b, acks[0].Status, acks[0].Reason))
		}
		return out
	}
	for _, rp := range []*rawPeer{pending, blocked} {
		rp.connect(a)
		rp.startSession(a)
		answers(rp, 3) // a request thread of 3 at a
	}
	if err := a.Block(blocked.h.ID()); err != nil {
		t.Fatal(err)
	}
	n := DefaultLimits.RequestMessagesPerSender // well past the cap
	want, got := answers(pending, n), answers(blocked, n)
	if !slices.Equal(got, want) {
		t.Fatalf("blocked peer's answers differ from a pending stranger's:\nblocked %q\npending %q", got, want)
	}
	if want[0] == want[n-1] || want[n] != want[0] {
		t.Fatalf("the pending stranger never met its thread cap, or its resent first message was refused: %q", want)
	}
	if ms, _ := a.Messages(blocked.h.ID(), 100, zeroTime); len(ms) != 0 {
		t.Fatalf("a stored %d of the blocked peer's messages", len(ms))
	}
}
