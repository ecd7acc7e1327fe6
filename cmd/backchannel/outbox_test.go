package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api"
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

// TestSendDaemonStopped: when the daemon takes a send and its connection
// ends before the answer, the CLI does not print a bare EOF: it says the
// message may be stored and gives the command that retries it once.
func TestSendDaemonStopped(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf) // the request arrives; the daemon "dies"
			c.Close()
		}
	}()
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, api.APIFileName), fmt.Appendf(nil, `{"addr":%q,"pid":%d}`, l.Addr().String(), os.Getpid()), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, api.TokenFileName), []byte(strings.Repeat("ab", 32)), 0o600); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := cli(t, home, "send", "bob", "hello", "--key", "retry-me")
	if code == 0 || !strings.Contains(stderr, "the daemon stopped before it answered") || !strings.Contains(stderr, "--key retry-me") {
		t.Errorf("exit %d, stderr:\n%s", code, stderr)
	}
}
