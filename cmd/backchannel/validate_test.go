package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/storage"
)

// TestPrintDone: a mutating command whose route answers with no body says
// what it did, and prints {"ok": true} with --json.
func TestPrintDone(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"profile set", []string{"profile", "set", "Alice"}, "your contacts now see you as Alice\n"},
		{"requests accept", []string{"requests", "accept", stranger.String()}, "accepted " + stranger.String() + ": the conversation is in your inbox\n"},
		{"contacts block", []string{"contacts", "block", "bob"}, "blocked bob\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := populated(t)
			if got := ok(t, s.Home, tt.args...); got != tt.want {
				t.Errorf("stdout %q, want %q", got, tt.want)
			}
		})
		t.Run(tt.name+" json", func(t *testing.T) {
			s := populated(t)
			sameJSON(t, ok(t, s.Home, append([]string{"--json"}, tt.args...)...), `{"ok": true}`)
		})
	}
}

// TestLimitFlag: --limit 0 or below is refused, not read as the default.
func TestLimitFlag(t *testing.T) {
	s := populated(t)
	for _, args := range [][]string{
		{"read", "bob", "--limit", "0"},
		{"read", "bob", "--limit", "-1"},
		{"room", "read", "x", "--limit", "0"},
		{"group", "read", "x", "--limit", "-1"},
		{"read", "bob", "--limit", "5000"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, errs, code := cli(t, s.Home, args...)
			if code == 0 || !strings.Contains(errs, "want 1 to") {
				t.Errorf("exit %d, stderr %q", code, errs)
			}
		})
	}
}

// TestDaemonHoldsHome: while a process has the home's store open and the
// API is not up (a daemon starting), a command says to try again, and init
// says to stop the daemon.
func TestDaemonHoldsHome(t *testing.T) {
	home := t.TempDir()
	st, err := storage.Open(storage.Config{Dir: filepath.Join(home, "store"), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"inbox"}, "backchannel: the daemon is starting; try again in a moment\n"},
		{[]string{"init"}, "backchannel: the daemon is running with this home: stop it first\n"},
	}
	for _, tt := range tests {
		t.Run(tt.args[0], func(t *testing.T) {
			_, errs, code := cli(t, home, tt.args...)
			if code == 0 || errs != tt.want {
				t.Errorf("exit %d, stderr %q, want %q", code, errs, tt.want)
			}
		})
	}
	// The store's own error says the same of Badger's lock.
	if _, err := storage.Open(storage.Config{Dir: filepath.Join(home, "store"), NoSync: true}); err == nil || !strings.Contains(err.Error(), storage.ErrLocked.Error()) {
		t.Errorf("second open: %v", err)
	}
}
