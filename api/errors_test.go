package api

import (
	"errors"
	"fmt"
	"testing"
)

// TestClassify checks the mapping of the backend's errors, wrapped with
// detail, to a status and code.
func TestClassify(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("%w: only the host", ErrNotAllowed), 403, CodeNotAllowed},
		{fmt.Errorf("invalid room: %w", ErrMuted), 403, CodeMuted},
		{fmt.Errorf("%w: bad body", ErrInvalidRoom), 400, CodeInvalidRoom},
		{fmt.Errorf("%w: 2 rooms are named x", ErrInvalidRoom), 400, CodeInvalidRoom},
		{fmt.Errorf("%w: not in room x", ErrNotFound), 404, CodeNotFound},
		{fmt.Errorf("%w: text", ErrTooLarge), 413, CodeTooLarge},
		{fmt.Errorf("%w: twins", ErrAmbiguous), 409, CodeAmbiguous},
		{fmt.Errorf("%w: shutting down", ErrUnavailable), 503, CodeUnavailable},
		{fmt.Errorf("%w: quota reached", ErrMailboxRefused), 409, CodeMailboxRefused},
		{fmt.Errorf("%w: bob", ErrNoMailbox), 404, CodeNoMailbox},
		{fmt.Errorf("looking for room x: %w", ErrNoPeers), 409, CodeNoPeers},
		{errors.New("disk on fire"), 500, CodeInternal},
	}
	for _, tt := range tests {
		status, code := classify(tt.err)
		if status != tt.status || code != tt.code {
			t.Errorf("classify(%v) = %d %s, want %d %s", tt.err, status, code, tt.status, tt.code)
		}
	}
}
