package api

import (
	"errors"
	"fmt"
	"testing"

	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
)

// TestClassifyRoomErrors checks the mapping of the node's room errors,
// which wrap a roomstate reason inside node.ErrInvalidRoom.
func TestClassifyRoomErrors(t *testing.T) {
	tests := []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("%w: %w", node.ErrInvalidRoom, roomstate.ErrNotAllowed), 403, CodeNotAllowed},
		{fmt.Errorf("%w: %w", node.ErrInvalidRoom, roomstate.ErrMuted), 403, CodeMuted},
		{fmt.Errorf("%w: %w", node.ErrInvalidRoom, roomstate.ErrBadBody), 400, CodeInvalidRoom},
		{fmt.Errorf("%w: 2 rooms are named x", node.ErrInvalidRoom), 400, CodeInvalidRoom},
		{fmt.Errorf("%w: not in room x", node.ErrNotFound), 404, CodeNotFound},
		{fmt.Errorf("%w: text", node.ErrTooLarge), 413, CodeTooLarge},
		{errors.New("disk on fire"), 500, CodeInternal},
	}
	for _, tt := range tests {
		status, code := classify(tt.err)
		if status != tt.status || code != tt.code {
			t.Errorf("classify(%v) = %d %s, want %d %s", tt.err, status, code, tt.status, tt.code)
		}
	}
}
