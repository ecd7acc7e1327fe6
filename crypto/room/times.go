package room

import (
	"fmt"
	"time"
)

// unixMilli returns t in Unix milliseconds, and 0 for the zero time (which
// means "not set" on the wire).
func unixMilli(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromUnixMilli is the inverse of unixMilli; it returns UTC times.
func fromUnixMilli(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// roundMilli keeps t to the millisecond, in UTC, as it will be on the wire.
func roundMilli(t time.Time) time.Time { return fromUnixMilli(unixMilli(t)) }

// checkTime checks that a required time is after the Unix epoch.
func checkTime(what string, t time.Time) error {
	if unixMilli(t) <= 0 {
		return fmt.Errorf("%w: %s is not after 1970", ErrInvalid, what)
	}
	return nil
}

// formatTime prints a time for an error message.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }
