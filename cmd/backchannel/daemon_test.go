package main

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
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
