package main

// Checks of flag values, made before a command talks to the daemon (or,
// for the daemon, before it opens the store or asks for a passphrase): a
// bad value fails at once, with one line that says what is wanted, in the
// form of --limit's "--limit 0: want 1 to 1000". The daemon stays the
// authority: each check refuses what it would refuse anyway, with the same
// bounds, unless its comment says why the command line asks for more.

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/backchannel/backchannel/crypto/safename"
)

// wantAnnotation, on a flag, is what flagError says is wanted when the
// flag's value does not parse, instead of what its type takes.
const wantAnnotation = "backchannel_want"

// flagError is the root's FlagErrorFunc: a value that does not parse as its
// flag's type (--limit ten, --for 5) is said in the form of the other
// checks, not as strconv's or time's error. Other parse errors (an unknown
// flag, a missing value) are cobra's, which already say what is wrong.
func flagError(_ *cobra.Command, err error) error {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) {
		return err
	}
	f := ive.GetFlag()
	var want string
	if w := f.Annotations[wantAnnotation]; len(w) > 0 {
		want = w[0]
	} else {
		switch f.Value.Type() {
		case "int":
			want = "a whole number"
		case "uint8":
			want = "a whole number from 0 to 255"
		case "duration":
			want = "a duration such as 90s, 10m or 2h"
		case "bool":
			want = "true or false"
		default:
			return err
		}
	}
	return fmt.Errorf("--%s %q: want %s", f.Name, ive.GetValue(), want)
}

// checkRange refuses an int flag's value outside lo..hi.
func checkRange(flag string, v, lo, hi int) error {
	if v < lo || v > hi {
		return fmt.Errorf("%s %d: want %d to %d", flag, v, lo, hi)
	}
	return nil
}

// checkPositive refuses a duration of zero or less.
func checkPositive(flag string, d time.Duration) error {
	if d <= 0 {
		return fmt.Errorf("%s %s: want more than 0", flag, d)
	}
	return nil
}

// checkFD refuses a negative file descriptor.
func checkFD(flag string, fd int) error {
	if fd < 0 {
		return fmt.Errorf("%s %d: want an open file descriptor, 0 (stdin) or more", flag, fd)
	}
	return nil
}

// checkNotEmpty refuses a string flag given as "" (--home "$UNSET"), which
// would otherwise mean what leaving the flag out means.
func checkNotEmpty(cmd *cobra.Command, flag, v, want string) error {
	if v == "" && cmd.Flags().Changed(strings.TrimPrefix(flag, "--")) {
		return fmt.Errorf("%s %q: want %s", flag, v, want)
	}
	return nil
}

// clock is the time --start and --event are checked against; the tests
// set it to their fake daemon's.
var clock = time.Now

// pastSlack is how far in the past an event's or a room's start may be:
// the node's own rule (node/internal/input.PastSlack), so that a clock a
// little behind is not refused here either.
const pastSlack = time.Minute

// parseStart reads an event's or a room's start: an RFC 3339 time that has
// not passed (the node refuses one more than pastSlack ago). The empty
// string is no start, the zero time.
func parseStart(flag, s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%s %q: want an RFC 3339 time such as 2026-03-01T18:00:00Z", flag, s)
	}
	if t.Before(now.Add(-pastSlack)) {
		return time.Time{}, fmt.Errorf("%s %s: that time has passed: want a time still to come", flag, s)
	}
	return t, nil
}

// checkMsgRef refuses what cannot name a message: a message ID is idLen
// hex digits, and any prefix of at least minIDPrefix of them names it
// where it is unique (as the API resolves it).
func checkMsgRef(flag, ref string, idLen int) error {
	if ref == "" {
		return nil
	}
	if len(ref) < minIDPrefix || len(ref) > idLen || strings.Trim(strings.ToLower(ref), "0123456789abcdef") != "" {
		return fmt.Errorf("%s %q: want a message ID or at least %d hex digits of one", flag, ref, minIDPrefix)
	}
	return nil
}

// The lengths, in hex digits, of a 1:1 message ID and a group message ID.
const (
	dmIDLen    = 32
	groupIDLen = 64
)

// checkText refuses a short text the user names something with that is
// longer than max bytes, is not UTF-8 or holds a control character or a
// bidirectional control (crypto/safename's rule, the node's for names).
func checkText(flag, s string, max int) error {
	if len(s) > max {
		return fmt.Errorf("%s is %d bytes: want at most %d", flag, len(s), max)
	}
	if safename.Check(s) != nil {
		return fmt.Errorf("%s %q: want printable characters, no control characters", flag, s)
	}
	return nil
}

// maxNameBytes bounds a contact's name, as the node does
// (node/contacts.MaxNameBytes).
const maxNameBytes = 64

// maxSendKeyBytes bounds a send's idempotency key, as the node does
// (node/dm.MaxKeyBytes; the API documents it in SendRequest.Key).
const maxSendKeyBytes = 64

// checkSendKey refuses an idempotency key the node would refuse (too long)
// and, more than the node, one with a control character: send prints the
// key back for the user to type again after a lost answer.
func checkSendKey(key string) error {
	return checkText("--key", key, maxSendKeyBytes)
}

// rsvpAnswers are what TEXT may be with --rsvp, as the node takes them.
var rsvpAnswers = []string{"yes", "no", "maybe"}

// checkAPIAddr checks --api: a loopback HOST:PORT, as api.CheckAddr (which
// the server checks again) takes it.
func checkAPIAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--api %q: want a loopback HOST:PORT such as 127.0.0.1:7333", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("--api %q: want a port from 0 to 65535", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("--api %q: the API listens on loopback only: want 127.0.0.1, ::1 or localhost", addr)
	}
	return nil
}

// badPort returns the first TCP or UDP port of a multiaddr's text that is
// not 0 to 65535, or "".
func badPort(s string) string {
	parts := strings.Split(s, "/")
	for i, p := range parts[:max(len(parts)-1, 0)] {
		if p == "tcp" || p == "udp" {
			if _, err := strconv.ParseUint(parts[i+1], 10, 16); err != nil {
				return parts[i+1]
			}
		}
	}
	return ""
}

// oneOf refuses a value not among choices.
func oneOf(flag, v string, choices []string) error {
	if !slices.Contains(choices, v) {
		return fmt.Errorf("%s %q: want one of %s", flag, v, strings.Join(choices, ", "))
	}
	return nil
}
