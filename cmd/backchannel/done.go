package main

import (
	"fmt"

	"github.com/backchannel/backchannel/api"
)

// okBody is what a mutating command prints with --json when its route
// answers with no body (204).
type okBody struct {
	OK bool `json:"ok"`
}

// done reports what a mutating command did: the line, or {"ok": true} with
// --json when the route answers with no body.
func (a *app) done(format string, args ...any) error {
	if a.json {
		return a.printJSON(okBody{OK: true})
	}
	_, err := fmt.Fprintf(a.stdout, format+"\n", args...)
	return err
}

// checkLimit refuses a --limit the API would not take, rather than letting
// 0 or a negative number mean the default.
func checkLimit(limit, max int) error {
	if limit < 1 || limit > max {
		return fmt.Errorf("--limit %d: want 1 to %d", limit, max)
	}
	return nil
}

// The limits' largest values, as the API takes them.
const (
	maxMessagesLimit = api.MaxMessagesLimit
	maxRoomChatLimit = api.MaxRoomChatLimit
	maxGroupLimit    = api.MaxGroupMessagesLimit
)
