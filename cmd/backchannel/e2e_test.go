package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
)

// TestThreeDaemons is the request inbox end to end, as a user drives it with
// the CLI: three daemons on loopback, A (Alice) and two strangers. B's
// message is a request until A accepts it; C is declined without being told,
// then blocked, and its later messages are acked but never stored.
func TestThreeDaemons(t *testing.T) {
	homeA, homeB, homeC := t.TempDir(), t.TempDir(), t.TempDir()
	startDaemon(t, homeA)
	startDaemon(t, homeB)
	startDaemon(t, homeC)
	ok(t, homeA, "profile", "set", "Alice")
	a := decodeJSON[api.Self](t, ok(t, homeA, "id", "--json"))
	b := decodeJSON[api.Self](t, ok(t, homeB, "id", "--json"))
	c := decodeJSON[api.Self](t, ok(t, homeC, "id", "--json"))
	eventsA := watchEvents(t, homeA)

	// B, a stranger to A, writes: a request on A, delivered but not read on B.
	ok(t, homeB, "contacts", "add", a.Invite, "--name", "alice")
	sent := decodeJSON[api.Message](t, ok(t, homeB, "send", "alice", "hello", "from", "b", "--json"))
	if sent.Text != "hello from b" || sent.Direction != "outbound" || sent.PeerID != a.PeerID {
		t.Errorf("sent %+v", sent)
	}
	eventually(t, "B's message in A's requests", func() bool { return hasThread(requests(t, homeA), b.PeerID) })
	req := requests(t, homeA)[0]
	if req.PeerID != b.PeerID || req.Last.ID != sent.ID || req.Last.Text != "hello from b" || req.Count != 1 {
		t.Errorf("A's request %+v", req)
	}
	if in := inbox(t, homeA); len(in) != 0 {
		t.Errorf("A's inbox holds a stranger's thread: %+v", in)
	}
	eventually(t, "B sees its message delivered", func() bool { return stateAt(t, homeB, "alice", sent.ID) == "delivered" })
	eventually(t, "A's event stream shows the request", func() bool {
		return slices.ContainsFunc(eventsA(), func(e api.Event) bool {
			return e.Type == "request" && e.Message != nil && e.Message.ID == sent.ID && e.Message.Text == "hello from b"
		})
	})
	drained(t, homeA) // anything A queued for B has reached B's store
	if s := stateAt(t, homeB, "alice", sent.ID); s != "delivered" {
		t.Errorf("B's message %s before A accepted, want delivered", s)
	}

	// A accepts: the thread moves to the inbox and B learns A's name.
	ok(t, homeA, "requests", "accept", b.PeerID)
	if in := inbox(t, homeA); len(in) != 1 || in[0].PeerID != b.PeerID || in[0].Last.ID != sent.ID {
		t.Errorf("A's inbox after accept: %+v", in)
	}
	if rs := requests(t, homeA); len(rs) != 0 {
		t.Errorf("A's requests after accept: %+v", rs)
	}
	eventually(t, "B gets A's profile", func() bool { return contact(t, homeB, a.PeerID).ProfileName == "Alice" })
	if s := stateAt(t, homeB, "alice", sent.ID); s != "delivered" {
		t.Errorf("B's message %s after accept but before A read it, want delivered", s)
	}

	// A reads the thread: now B gets a read receipt.
	ms := decodeJSON[api.Messages](t, ok(t, homeA, "read", b.PeerID, "--json")).Messages
	if len(ms) != 1 || ms[0].ID != sent.ID || ms[0].Direction != "inbound" {
		t.Errorf("A reads B's thread: %+v", ms)
	}
	eventually(t, "B sees its message read", func() bool { return stateAt(t, homeB, "alice", sent.ID) == "read" })

	// C, another stranger, writes; A looks at it and declines. C is not told.
	ok(t, homeC, "contacts", "add", a.Invite, "--name", "alice")
	eventsC := watchEvents(t, homeC)
	c1 := decodeJSON[api.Message](t, ok(t, homeC, "send", "alice", "buy", "my", "stuff", "--json"))
	eventually(t, "C's message in A's requests", func() bool { return hasThread(requests(t, homeA), c.PeerID) })
	eventually(t, "C sees its message delivered", func() bool { return stateAt(t, homeC, "alice", c1.ID) == "delivered" })
	if ms := decodeJSON[api.Messages](t, ok(t, homeA, "read", c.PeerID, "--json")).Messages; len(ms) != 1 || ms[0].ID != c1.ID {
		t.Errorf("A reads C's request: %+v", ms)
	}
	ok(t, homeA, "requests", "decline", c.PeerID)
	if hasThread(requests(t, homeA), c.PeerID) || hasThread(inbox(t, homeA), c.PeerID) {
		t.Errorf("C's thread still listed after decline: requests %+v, inbox %+v", requests(t, homeA), inbox(t, homeA))
	}
	if _, errs, code := cli(t, homeA, "read", c.PeerID); code == 0 || !strings.Contains(errs, "unknown peer") {
		t.Errorf("A reads C after decline: exit %d, %q; want an unknown peer", code, errs)
	}
	drained(t, homeA) // a read receipt or a notice to C would be in C's store now
	if ms := thread(t, homeC, "alice"); len(ms) != 1 || ms[0].ID != c1.ID || ms[0].State != "delivered" {
		t.Errorf("C's thread after A read and declined it: %+v, want only its message, delivered", ms)
	}
	if p := contact(t, homeC, a.PeerID).ProfileName; p != "" {
		t.Errorf("C learnt A's profile name %q", p)
	}

	// C writes again: a new request, which A blocks. C's next message is
	// acked (delivered at C) but dropped at A.
	c2 := decodeJSON[api.Message](t, ok(t, homeC, "send", "alice", "did", "you", "get", "it", "--json"))
	eventually(t, "C's second message in A's requests", func() bool { return hasThread(requests(t, homeA), c.PeerID) })
	if rs := requests(t, homeA); len(rs) != 1 || rs[0].Count != 1 || rs[0].Last.ID != c2.ID {
		t.Errorf("A's requests after C wrote again: %+v, want one thread with only the new message", rs)
	}
	ok(t, homeA, "requests", "block", c.PeerID)
	c3 := decodeJSON[api.Message](t, ok(t, homeC, "send", "alice", "hello?", "--json"))
	eventually(t, "C sees its message to the blocking A delivered", func() bool { return stateAt(t, homeC, "alice", c3.ID) == "delivered" })
	if hasThread(requests(t, homeA), c.PeerID) || hasThread(inbox(t, homeA), c.PeerID) {
		t.Errorf("blocked C listed: requests %+v, inbox %+v", requests(t, homeA), inbox(t, homeA))
	}
	if ms := thread(t, homeA, c.PeerID); len(ms) != 0 {
		t.Errorf("A stored messages from blocked C: %+v", ms)
	}
	if s := contact(t, homeA, c.PeerID).State; s != "blocked" {
		t.Errorf("C is %q at A, want blocked", s)
	}
	drained(t, homeA)
	for _, m := range thread(t, homeC, "alice") {
		if m.Direction != "outbound" || m.State != "delivered" {
			t.Errorf("C's thread holds %+v, want its own messages, delivered", m)
		}
	}

	// C's event stream, in order, ends with c3 delivered; nothing in it came
	// from A but acks: no receipt, profile, acceptance or typing.
	eventually(t, "C's event stream shows its last message delivered", func() bool {
		return slices.ContainsFunc(eventsC(), func(e api.Event) bool {
			return e.Type == "message_state" && e.Message != nil && e.Message.ID == c3.ID && e.Message.State == "delivered"
		})
	})
	for _, e := range eventsC() {
		if e.PeerID == pokePeer.String() {
			continue
		}
		if e.Message == nil || e.Message.Direction != "outbound" || e.Message.State == "read" {
			t.Errorf("C was told something: %+v", e)
		}
	}

	// After all that, A and B still talk, both ways, and A's list is right.
	reply := decodeJSON[api.Message](t, ok(t, homeA, "send", b.PeerID, "hi", "bob", "--json"))
	eventually(t, "A's reply delivered", func() bool { return stateAt(t, homeA, b.PeerID, reply.ID) == "delivered" })
	if in := inbox(t, homeB); len(in) != 1 || in[0].PeerID != a.PeerID || in[0].Name != "alice" || in[0].Last.Text != "hi bob" {
		t.Errorf("B's inbox: %+v", in)
	}
	if in := inbox(t, homeA); len(in) != 1 || in[0].PeerID != b.PeerID {
		t.Errorf("A's inbox at the end: %+v", in)
	}
}

// pokePeer is a peer no daemon knows, blocked and unblocked to make an
// event.
var pokePeer = apitest.PeerID(9)

// watchEvents runs `events --json` for home until the test ends and returns
// what it has printed so far. It returns once the stream is known to be
// subscribed: it blocks and unblocks pokePeer (which leaves no trace but a
// contact event) until that event comes through.
func watchEvents(t *testing.T, home string) func() []api.Event {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() { done <- run(ctx, []string{"--home", home, "events", "--json"}, &out, &errs) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("events for %s: exit %d: %s", home, code, errs.String())
		}
	})
	seen := func() []api.Event {
		var es []api.Event
		for line := range strings.Lines(out.String()) {
			if !strings.HasSuffix(line, "\n") {
				break // being written
			}
			var e api.Event
			if err := json.Unmarshal([]byte(line), &e); err != nil {
				t.Fatalf("events --json printed %q: %v", line, err)
			}
			es = append(es, e)
		}
		return es
	}
	eventually(t, "the event stream of "+home+" subscribed", func() bool {
		ok(t, home, "contacts", "block", pokePeer.String())
		ok(t, home, "contacts", "unblock", pokePeer.String())
		return slices.ContainsFunc(seen(), func(e api.Event) bool { return e.PeerID == pokePeer.String() })
	})
	return seen
}

func requests(t *testing.T, home string) []api.Conversation {
	t.Helper()
	return decodeJSON[api.Conversations](t, ok(t, home, "requests", "--json")).Conversations
}

func inbox(t *testing.T, home string) []api.Conversation {
	t.Helper()
	return decodeJSON[api.Conversations](t, ok(t, home, "inbox", "--json")).Conversations
}

func hasThread(cs []api.Conversation, peerID string) bool {
	return slices.ContainsFunc(cs, func(c api.Conversation) bool { return c.PeerID == peerID })
}

// thread is `read PEER --json`: the thread, newest first (and marked read).
func thread(t *testing.T, home, peer string) []api.Message {
	t.Helper()
	return decodeJSON[api.Messages](t, ok(t, home, "read", peer, "--json")).Messages
}

// stateAt is the state of message id in home's thread with peer, or "" if
// it is not there.
func stateAt(t *testing.T, home, peer, id string) string {
	t.Helper()
	for _, m := range thread(t, home, peer) {
		if m.ID == id {
			return m.State
		}
	}
	return ""
}

// contact is home's contact record for peerID (zero if none).
func contact(t *testing.T, home, peerID string) api.Contact {
	t.Helper()
	for _, c := range decodeJSON[api.Contacts](t, ok(t, home, "contacts", "list", "--json")).Contacts {
		if c.PeerID == peerID {
			return c
		}
	}
	return api.Contact{}
}

// drained waits until home's outbox is empty. Entries leave the outbox when
// the recipient acks them, after its commit: once drained, whatever home
// queued so far is in its recipients' stores. Checking a peer's state after
// this proves home sent it nothing, without sleeping.
func drained(t *testing.T, home string) {
	t.Helper()
	eventually(t, "the outbox of "+home+" drained", func() bool {
		return decodeJSON[api.Status](t, ok(t, home, "status", "--json")).OutboxPending == 0
	})
}
