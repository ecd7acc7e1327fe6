package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
)

// TestDaemon runs a real node and its API in process, in a temporary home,
// talks to it with the CLI and stops it as a signal would.
func TestDaemon(t *testing.T) {
	home := t.TempDir()
	out := ok(t, home, "init")
	peerID := strings.TrimSpace(out)
	if !strings.HasPrefix(peerID, "12D3KooW") {
		t.Fatalf("init printed %q, want a peer ID", out)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr strings.Builder
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--home", home, "daemon", "--log-level", "warn"}, &strings.Builder{}, &stderr)
	}()
	apiFile := filepath.Join(home, api.APIFileName)
	for {
		if _, err := os.Stat(apiFile); err == nil {
			break
		}
		select {
		case code := <-done:
			t.Fatalf("daemon exited with %d: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}

	var self api.Self
	idJSON := ok(t, home, "id", "--json")
	if err := json.Unmarshal([]byte(idJSON), &self); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(idJSON, `\u0026`) {
		t.Errorf("id --json escapes '&' in the invite link: %s", idJSON)
	}
	if _, errs, code := cli(t, home, "daemon"); code == 0 || !strings.Contains(errs, "a daemon is already running for home") {
		t.Errorf("second daemon: exit %d, %q", code, errs)
	}
	if _, errs, code := cli(t, t.TempDir(), "daemon", "--api", "0.0.0.0:0"); code == 0 || !strings.Contains(errs, "loopback only") {
		t.Errorf("daemon --api 0.0.0.0:0: exit %d, %q", code, errs)
	}
	if self.PeerID != peerID || !strings.HasPrefix(self.Invite, "backchannel://") {
		t.Errorf("id %+v, want peer %s and an invite", self, peerID)
	}
	ok(t, home, "profile", "set", "Alice")
	if err := json.Unmarshal([]byte(ok(t, home, "id", "--json")), &self); err != nil {
		t.Fatal(err)
	}
	if self.Name != "Alice" {
		t.Errorf("name %q after profile set", self.Name)
	}
	if out := ok(t, home, "inbox", "--json"); strings.TrimSpace(out) != "{\n  \"conversations\": []\n}" {
		t.Errorf("empty inbox: %q", out)
	}
	_, errs, code := cli(t, home, "send", "nobody", "hi")
	if code == 0 || !strings.Contains(errs, "unknown peer") {
		t.Errorf("send to nobody: exit %d, %q", code, errs)
	}

	cancel() // as SIGINT would
	if code := <-done; code != 0 {
		t.Errorf("daemon exit %d: %s", code, stderr.String())
	}
	if _, err := os.Stat(apiFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("api.json left after shutdown: %v", err)
	}
}

// startDaemon runs a daemon for home in process until the test ends; stop
// stops it and checks it exited cleanly.
func startDaemon(t *testing.T, home string) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--home", home, "daemon", "--log-level", "warn"}, &syncBuffer{}, &stderr)
	}()
	for {
		if _, err := os.Stat(filepath.Join(home, api.APIFileName)); err == nil {
			break
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("daemon exited with %d: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if code := <-done; code != 0 {
				t.Errorf("daemon for %s: exit %d: %s", home, code, stderr.String())
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// eventually runs cond until it holds, giving up when the test's context
// ends (go test's -timeout).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		if t.Context().Err() != nil {
			t.Fatalf("gave up waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return v
}

// TestTwoDaemons is the README walk-through on loopback: B, a stranger,
// writes to A; the message is a request on A until A accepts it.
func TestTwoDaemons(t *testing.T) {
	homeA, homeB := t.TempDir(), t.TempDir()
	startDaemon(t, homeA)
	startDaemon(t, homeB)
	a := decodeJSON[api.Self](t, ok(t, homeA, "id", "--json"))
	b := decodeJSON[api.Self](t, ok(t, homeB, "id", "--json"))

	// A watches its events.
	ctx, cancel := context.WithCancel(context.Background())
	var events syncBuffer
	watching := make(chan int, 1)
	go func() { watching <- run(ctx, []string{"--home", homeA, "events", "--json"}, &events, &events) }()

	ok(t, homeB, "contacts", "add", a.Invite, "--name", "alice")
	sent := decodeJSON[api.Message](t, ok(t, homeB, "send", "alice", "hello", "from", "b", "--json"))
	if sent.Body != "hello from b" || sent.Direction != "outbound" {
		t.Errorf("sent %+v", sent)
	}

	eventually(t, "B's message in A's requests", func() bool {
		return len(decodeJSON[api.Conversations](t, ok(t, homeA, "requests", "--json")).Conversations) == 1
	})
	req := decodeJSON[api.Conversations](t, ok(t, homeA, "requests", "--json")).Conversations[0]
	if req.PeerID != b.PeerID || req.Last.Body != "hello from b" || req.Last.ID != sent.ID {
		t.Errorf("request %+v", req)
	}
	if inbox := decodeJSON[api.Conversations](t, ok(t, homeA, "inbox", "--json")); len(inbox.Conversations) != 0 {
		t.Errorf("A's inbox holds a stranger's thread: %+v", inbox)
	}
	eventually(t, "B sees its message delivered", func() bool {
		ms := decodeJSON[api.Messages](t, ok(t, homeB, "read", "alice", "--json")).Messages
		return len(ms) == 1 && ms[0].State == "delivered"
	})

	ok(t, homeA, "requests", "accept", b.PeerID)
	inbox := decodeJSON[api.Conversations](t, ok(t, homeA, "inbox", "--json"))
	if len(inbox.Conversations) != 1 || inbox.Conversations[0].PeerID != b.PeerID {
		t.Errorf("A's inbox after accept: %+v", inbox)
	}
	if reqs := decodeJSON[api.Conversations](t, ok(t, homeA, "requests", "--json")); len(reqs.Conversations) != 0 {
		t.Errorf("A's requests after accept: %+v", reqs)
	}

	eventually(t, "A's event stream shows the message", func() bool {
		return strings.Contains(events.String(), `"body":"hello from b"`)
	})
	cancel()
	if code := <-watching; code != 0 {
		t.Errorf("events: exit %d: %s", code, events.String())
	}
}
