package main

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api/apitest"
	"github.com/backchannel/backchannel/bench"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/storage"
)

func init() {
	// The CLI checks --start and --event against the fake daemon's clock,
	// which the tests' dates are chosen from, not against the day they run.
	now := apitest.NewFake(self).Now
	clock = func() time.Time { return now }
}

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
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		args []string
		want string // stderr, after "backchannel: "
	}{
		// Values that do not parse as the flag's type.
		{[]string{"read", "bob", "--limit", "ten"}, `--limit "ten": want a whole number`},
		{[]string{"room", "mute", "R", "bob", "--for", "5"}, `--for "5": want a duration such as 90s, 10m or 2h`},
		{[]string{"init", "--encrypt=maybe"}, `--encrypt "maybe": want true or false`},
		{[]string{"daemon", "--stamp-difficulty", "300"}, `--stamp-difficulty "300": want 0 to 24`},

		{[]string{"--home", "", "inbox"}, `--home "": want a folder (or leave --home out for the default)`},

		{[]string{"read", "bob", "--limit", "0"}, "--limit 0: want 1 to 1000"},
		{[]string{"room", "read", "R", "--limit", "1001"}, "--limit 1001: want 1 to 1000"},
		{[]string{"group", "read", "G", "--limit", "-1"}, "--limit -1: want 1 to 1000"},

		{[]string{"send", "bob", "hi", "--key", long(65)}, "--key is 65 bytes: want at most 64"},
		{[]string{"send", "bob", "hi", "--key", "a\x1bb"}, `--key "a\x1bb": want printable characters, no control characters`},
		{[]string{"send", "bob", "hi", "--reply-to", "abcdef", "--react", "abcdef"}, "--react and --reply-to: choose one"},
		{[]string{"send", "bob", "hi", "--reply-to", "xyz123"}, `--reply-to "xyz123": want a message ID or at least 6 hex digits of one`},
		{[]string{"send", "bob", "👍", "--react", "abc"}, `--react "abc": want a message ID or at least 6 hex digits of one`},
		{[]string{"send", "bob", "👍", "--react", long(33)}, `--react "` + long(33) + `": want a message ID or at least 6 hex digits of one`},

		{[]string{"contacts", "add", stranger.String(), "--name", long(65)}, "--name is 65 bytes: want at most 64"},
		{[]string{"contacts", "add", stranger.String(), "--name", "a\u202eb"}, `--name "a\u202eb": want printable characters, no control characters`},

		{[]string{"mailbox", "appoint", "bob", "--days", "0"}, "--days 0: want 1 to 400"},
		{[]string{"mailbox", "appoint", "bob", "--days", "401"}, "--days 401: want 1 to 400"},
		{[]string{"mailbox", "list", "--of", ""}, `--of "": want a peer ID or a contact's name`},

		{[]string{"room", "create", "X", "--start", "tomorrow"}, `--start "tomorrow": want an RFC 3339 time such as 2026-03-01T18:00:00Z`},
		{[]string{"room", "create", "X", "--start", "2020-01-01T00:00:00Z"}, "--start 2020-01-01T00:00:00Z: that time has passed: want a time still to come"},
		{[]string{"room", "create", "X", "--description", long(1025)}, "--description is 1025 bytes: want at most 1024"},
		{[]string{"room", "mute", "R", "bob", "--for", "0s"}, "--for 0s: want more than 0 and at most 24h"},
		{[]string{"room", "mute", "R", "bob", "--for", "-5m"}, "--for -5m0s: want more than 0 and at most 24h"},
		{[]string{"room", "mute", "R", "bob", "--for", "25h"}, "--for 25h0m0s: want more than 0 and at most 24h"},
		{[]string{"room", "grant", "R", "bob", "speaker", "--for", "0s"}, "--for 0s: want 1s to 720h (30 days)"},
		{[]string{"room", "grant", "R", "bob", "speaker", "--for", "721h"}, "--for 721h0m0s: want 1s to 720h (30 days)"},

		{[]string{"group", "send", "G", "x", "--event", "tomorrow"}, `--event "tomorrow": want an RFC 3339 time such as 2026-03-01T18:00:00Z`},
		{[]string{"group", "send", "G", "x", "--event", "2020-01-01T00:00:00Z"}, "--event 2020-01-01T00:00:00Z: that time has passed: want a time still to come"},
		{[]string{"group", "send", "G", "perhaps", "--rsvp", "abcdef"}, `--rsvp: TEXT "perhaps": want yes, no or maybe`},
		{[]string{"group", "send", "G", "yes", "--rsvp", "7e"}, `--rsvp "7e": want a message ID or at least 6 hex digits of one`},
		{[]string{"group", "send", "G", "x", "--reply-to", "zzzzzz"}, `--reply-to "zzzzzz": want a message ID or at least 6 hex digits of one`},
		{[]string{"group", "send", "G", "x", "--reply-to", "abcdef", "--event", "2030-01-01T00:00:00Z"}, "give at most one of --reply-to, --react, --event and --rsvp"},

		{[]string{"daemon", "--api", "127.0.0.1:70000"}, `--api "127.0.0.1:70000": want a port from 0 to 65535`},
		{[]string{"daemon", "--api", "7333"}, `--api "7333": want a loopback HOST:PORT such as 127.0.0.1:7333`},
		{[]string{"daemon", "--api", "0.0.0.0:0"}, `--api "0.0.0.0:0": the API listens on loopback only: want 127.0.0.1, ::1 or localhost`},
		{[]string{"daemon", "--listen", "/ip4/0.0.0.0/tcp/70000"}, `--listen "/ip4/0.0.0.0/tcp/70000": port 70000: want 0 to 65535`},
		{[]string{"daemon", "--listen", "0.0.0.0:4001"}, `--listen "0.0.0.0:4001": want a multiaddr such as /ip4/0.0.0.0/tcp/4001`},
		{[]string{"daemon", "--bootstrap", "/ip4/198.18.0.1/tcp/4001"}, `--bootstrap "/ip4/198.18.0.1/tcp/4001": want a multiaddr ending in /p2p/PEER-ID, such as /ip4/198.18.0.1/tcp/4001/p2p/12D3KooW…`},
		{[]string{"daemon", "--allow-net", "198.18.0.1"}, `--allow-net "198.18.0.1": want a CIDR such as 198.18.0.0/15`},
		{[]string{"daemon", "--fail-after", "0s"}, "--fail-after 0s: want more than 0"},
		{[]string{"daemon", "--fail-after", "-1h"}, "--fail-after -1h0m0s: want more than 0"},
		{[]string{"daemon", "--deposit-after", "-1s"}, "--deposit-after -1s: want 0 (at the first failure) or more"},
		{[]string{"daemon", "--deposit-after", "1h", "--fail-after", "1h"}, "--deposit-after 1h0m0s: want less than --fail-after (1h0m0s): a message would fail before it is deposited"},
		{[]string{"daemon", "--stamp-difficulty", "25"}, "--stamp-difficulty 25: want 0 to 24"},
		{[]string{"daemon", "--log-level", "loud"}, `--log-level "loud": want debug, info, warn or error`},
		{[]string{"daemon", "--passphrase-fd", "-1"}, "--passphrase-fd -1: want an open file descriptor, 0 (stdin) or more"},
		{[]string{"daemon", "--key-file", ""}, `--key-file "": want the key file's path`},
		{[]string{"init", "--encrypt", "--passphrase-fd", "0", "--key-file", "k"}, "--passphrase-fd and --key-file: choose one (a store is opened with a passphrase or with a key file)"},
		{[]string{"passphrase", "--new-passphrase-fd", "-2"}, "--new-passphrase-fd -2: want an open file descriptor, 0 (stdin) or more"},
		{[]string{"passphrase", "--passphrase-fd", "5", "--new-passphrase-fd", "5"}, "--passphrase-fd and --new-passphrase-fd are both 5: want one descriptor for each passphrase"},
		{[]string{"demo", "--pace", "0s"}, "--pace 0s: want more than 0"},
		{[]string{"demo", "--api", "0.0.0.0:0"}, `--api "0.0.0.0:0": the API listens on loopback only: want 127.0.0.1, ::1 or localhost`},
		{[]string{"bench", "--out", ""}, `--out "": want a folder for report.json`},
		{[]string{"bench", "--only", "nope"}, `--only "nope": want one of ` + strings.Join(bench.Names(), ", ")},
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

// TestValidateBounds: the command line's bounds are the node's.
func TestValidateBounds(t *testing.T) {
	if maxSendKeyBytes != dm.MaxKeyBytes || maxNameBytes != contacts.MaxNameBytes {
		t.Errorf("--key at most %d bytes, --name %d; the node takes %d and %d", maxSendKeyBytes, maxNameBytes, dm.MaxKeyBytes, contacts.MaxNameBytes)
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
