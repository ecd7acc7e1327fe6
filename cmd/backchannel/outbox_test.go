package main

import (
	"strings"
	"testing"
)

// TestOutboxCommands: a sent message waits in the outbox (the fake's
// "sent"); cancel takes a prefix and it leaves the list; a send retried with
// the same --key stores one message.
func TestOutboxCommands(t *testing.T) {
	s := populated(t)
	h := s.Home
	out := ok(t, h, "send", "bob", "see you at noon", "--key", "k-1")
	id := strings.Fields(out)[1]
	if again := ok(t, h, "send", "bob", "see you at noon", "--key", "k-1"); again != out {
		t.Errorf("retried send printed %q, want %q (the same message)", again, out)
	}
	list := ok(t, h, "outbox", "list")
	if !strings.Contains(list, id) || !strings.Contains(list, "see you at noon") || strings.Count(list, "see you at noon") != 1 {
		t.Errorf("outbox list:\n%s", list)
	}
	if out := ok(t, h, "outbox", "cancel", id[:8]); out != "cancelled "+id+": it will not be sent\n" {
		t.Errorf("cancel printed %q", out)
	}
	if list := ok(t, h, "outbox", "list"); strings.Contains(list, id) {
		t.Errorf("cancelled message still listed:\n%s", list)
	}
	if read := ok(t, h, "read", "bob"); !strings.Contains(read, "failed "+id) {
		t.Errorf("read does not show the message failed:\n%s", read)
	}
	if _, stderr, code := cli(t, h, "outbox", "cancel", id[:8]); code == 0 || !strings.Contains(stderr, "is waiting to be sent") {
		t.Errorf("cancelling again: exit %d: %s", code, stderr)
	}
}
