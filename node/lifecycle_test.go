package node

import (
	"context"
	"errors"
	"testing"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/room"
)

// TestBeforeStart: a node that was made but not started answers every call
// with an error or an empty answer, never a nil pointer, and closes cleanly
// (twice).
func TestBeforeStart(t *testing.T) {
	n, err := New(Config{Home: t.TempDir(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Gater: &LoopbackGater{}})
	if err != nil {
		t.Fatal(err)
	}
	other := identity.New().Public().Key.PeerID()
	var rid room.ID
	var gid group.ID
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		call func() error
		want error // nil: any outcome but a panic
	}{
		{"Send", func() error { _, err := n.Send(ctx, other, Outgoing{Body: "hi"}); return err }, ErrClosed},
		{"Inbox", func() error { _, err := n.Inbox(); return err }, nil},
		{"Rooms", func() error { _, err := n.Rooms(); return err }, nil},
		{"RoomSay", func() error { _, err := n.RoomSay(ctx, rid, "hi"); return err }, ErrNotFound},
		{"Groups", func() error { _, err := n.Groups(); return err }, nil},
		{"GroupSend", func() error { _, err := n.GroupSend(ctx, gid, GroupOutgoing{Body: "hi"}); return err }, ErrInvalidGroup},
		{"Status", func() error { n.Status(); return nil }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call()
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("%s before Start: %v, want %v", tc.name, err, tc.want)
			}
		})
	}
	if err := n.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := n.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if r := n.cfg.Gater.Refused(); r != 0 {
		t.Errorf("gater refused %d", r)
	}
}
