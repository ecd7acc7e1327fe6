package main

import (
	"path/filepath"
	"slices"
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

// TestValidateFlags: a bad flag value, or flags that conflict, fail before
// any request with one line that says what is wanted. Each command that
// talks to the daemon fails the same way with no daemon running, which
// shows that it did not try to reach it. The daemon's, the demo's and the
// bench's rows run only against the populated home, whose API answers:
// a daemon whose check failed to refuse would stop there (a daemon is
// already running) rather than start.
func TestValidateFlags(t *testing.T) {
	s := populated(t)
	tests := []struct {
		args []string
		want string // stderr, after "backchannel: "
	}{
		// Values that do not parse as the flag's type.
		{[]string{"read", "bob", "--limit", "ten"}, `--limit "ten": want a whole number`},
		{[]string{"room", "mute", "R", "bob", "--for", "5"}, `--for "5": want a duration such as 90s, 10m or 2h`},
		{[]string{"init", "--encrypt=maybe"}, `--encrypt "maybe": want true or false`},

		{[]string{"--home", "", "inbox"}, `--home "": want a folder (or leave --home out for the default)`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			want := "backchannel: " + tt.want + "\n"
			homes := []string{s.Home, t.TempDir()}
			if slices.Contains([]string{"daemon", "demo", "bench"}, tt.args[0]) {
				homes = homes[:1]
			}
			for _, home := range homes {
				out, errs, code := cli(t, home, tt.args...)
				if code == 0 || errs != want || out != "" {
					t.Errorf("home %s: exit %d, stdout %q, stderr %q\nwant stderr %q", home, code, out, errs, want)
				}
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
