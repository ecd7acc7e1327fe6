package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/node"
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
	if n := loopbackGater(t, home).Refused(); n != 0 {
		t.Errorf("the gater refused %d dials or connections", n)
	}
	if _, err := os.Stat(apiFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("api.json left after shutdown: %v", err)
	}
}

// gaters holds the connection gater of each daemon run in process, by home.
var gaters sync.Map // string -> *node.LoopbackGater

// startingSeen holds, by home, whether the daemon's starting file named a
// live process once its node had started (before its API serves).
var startingSeen sync.Map // string -> bool

func init() {
	nodeStarted = func(home string, n *node.Node) {
		gaters.Store(home, n.Gater())
		_, ok := startingPID(home)
		startingSeen.Store(home, ok)
	}
}

// loopbackGater returns the gater of home's daemon, failing the test unless
// the daemon filters its connections with one.
func loopbackGater(t *testing.T, home string) *node.LoopbackGater {
	t.Helper()
	v, _ := gaters.Load(home)
	g, _ := v.(*node.LoopbackGater)
	if g == nil {
		t.Fatalf("the daemon for %s runs without a loopback gater", home)
	}
	return g
}

// startDaemon runs a daemon for home in process, with the daemon flags
// given, until the test ends; stop stops it and checks that it exited
// cleanly and that its loopback gater refused nothing. It asks strangers
// for no stamp unless flags say otherwise: under -race a stamp of the
// default difficulty takes seconds.
func startDaemon(t *testing.T, home string, flags ...string) (stop func()) {
	t.Helper()
	if !slices.ContainsFunc(flags, func(f string) bool { return strings.HasPrefix(f, "--stamp-difficulty") }) {
		flags = append([]string{"--stamp-difficulty", "0"}, flags...)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"--home", home, "daemon", "--log-level", "warn"}, flags...), &syncBuffer{}, &stderr)
	}()
	var once sync.Once
	exited := false
	stop = func() {
		once.Do(func() {
			cancel()
			if exited {
				return
			}
			if code := <-done; code != 0 {
				t.Errorf("daemon for %s: exit %d: %s", home, code, stderr.String())
			}
			if v, _ := gaters.Load(home); v != nil {
				if n := v.(*node.LoopbackGater).Refused(); n != 0 {
					t.Errorf("daemon for %s: the gater refused %d dials or connections", home, n)
				}
			}
		})
	}
	t.Cleanup(stop)
	for {
		if _, err := os.Stat(filepath.Join(home, api.APIFileName)); err == nil {
			break
		}
		select {
		case code := <-done:
			exited = true
			t.Fatalf("daemon exited with %d: %s", code, stderr.String())
		case <-time.After(10 * time.Millisecond):
		}
	}
	loopbackGater(t, home)
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

// waitLimit bounds every wait of eventually: generous, as the race
// detector on a busy machine is slow, but a hang fails the test in a
// minute rather than at go test's -timeout.
const waitLimit = time.Minute

// eventually polls cond every 20 ms until it holds, failing the test after
// waitLimit.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	for !cond() {
		if time.Now().After(deadline) || t.Context().Err() != nil {
			t.Fatalf("gave up waiting %v: %s", waitLimit, what)
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

// TestDaemonStampDefault: the daemon asks strangers for the node's default
// proof of work (the 11 bits DESIGN.md documents) unless told otherwise.
func TestDaemonStampDefault(t *testing.T) {
	f := (&app{}).daemonCmd().Flags().Lookup("stamp-difficulty")
	if f == nil || f.DefValue != strconv.Itoa(int(node.DefaultStampDifficulty)) || node.DefaultStampDifficulty != 11 {
		t.Fatalf("--stamp-difficulty default %v, node's %d; want both 11", f, node.DefaultStampDifficulty)
	}
}
