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

// checkNotEmpty refuses a string flag given as "" (--home "$UNSET"), which
// would otherwise mean what leaving the flag out means.
func checkNotEmpty(cmd *cobra.Command, flag, v, want string) error {
	if v == "" && cmd.Flags().Changed(strings.TrimPrefix(flag, "--")) {
		return fmt.Errorf("%s %q: want %s", flag, v, want)
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
