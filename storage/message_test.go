package storage

import (
	"errors"
	"testing"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

func TestMessageStates(t *testing.T) {
	for _, tc := range []struct {
		s        MessageState
		num      uint8 // stored value: never changes
		name     string
		rank     int
		inbound  bool
		outbound bool
	}{
		{StateQueued, 0, "queued", 0, false, true},
		{StateSent, 1, "sent", 1, false, true},
		{StateFailed, 7, "failed", 2, false, true},
		{StateInMailbox, 6, "in_mailbox", 3, false, true},
		{StateDelivered, 2, "delivered", 4, false, true},
		{StateRead, 3, "read", 5, false, true},
		{StateReceived, 4, "received", 6, true, false},
		{StateSeen, 5, "seen", 7, true, false},
		{MessageState(8), 8, "MessageState(8)", -1, false, false},
		{MessageState(255), 255, "MessageState(255)", -1, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if uint8(tc.s) != tc.num {
				t.Errorf("value = %d, want %d", uint8(tc.s), tc.num)
			}
			if got := tc.s.String(); got != tc.name {
				t.Errorf("String = %q, want %q", got, tc.name)
			}
			if got := tc.s.Rank(); got != tc.rank {
				t.Errorf("Rank = %d, want %d", got, tc.rank)
			}
			if got := tc.s.validFor(Inbound); got != tc.inbound {
				t.Errorf("validFor(Inbound) = %v, want %v", got, tc.inbound)
			}
			if got := tc.s.validFor(Outbound); got != tc.outbound {
				t.Errorf("validFor(Outbound) = %v, want %v", got, tc.outbound)
			}
			if tc.s.validFor(Direction(2)) {
				t.Error("valid for an unknown direction")
			}
		})
	}
}

func TestMessageStateBefore(t *testing.T) {
	life := []MessageState{StateQueued, StateSent, StateFailed, StateInMailbox, StateDelivered, StateRead}
	for i, a := range life {
		for j, b := range life {
			if got := a.Before(b); got != (i < j) {
				t.Errorf("%v.Before(%v) = %v, want %v", a, b, got, i < j)
			}
		}
	}
	for _, tc := range []struct {
		a, b MessageState
		want bool
	}{
		{StateSent, StateInMailbox, true},
		{StateInMailbox, StateDelivered, true},
		{StateInMailbox, StateSent, false},
		{StateDelivered, StateInMailbox, false}, // numerically 2 < 6, but later in the life
		{StateRead, StateInMailbox, false},
		{StateInMailbox, StateInMailbox, false},
		{StateReceived, StateSeen, true},
		{StateSeen, StateReceived, false},
	} {
		if got := tc.a.Before(tc.b); got != tc.want {
			t.Errorf("%v.Before(%v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

// TestInMailboxStored checks that the new state is stored as 6 and read back,
// and refused for an inbound message.
func TestInMailboxStored(t *testing.T) {
	s := openMem(t)
	p := newPeer(t)
	m := testMessage(p, 1, Outbound)
	m.State = StateInMailbox
	update(t, s, func(tx *Txn) error { return tx.PutMessage(m) })
	view(t, s, func(tx *Txn) error {
		got, err := tx.Message(p, m.ID)
		if err != nil || !messageEqual(got, m) {
			t.Errorf("Message = %+v, %v; want %+v", got, err, m)
		}
		k, err := messageKey(p, uint64(m.Sent.UnixNano()), m.ID)
		if err != nil {
			return err
		}
		var r storepb.Message
		if err := tx.getProto(k, &r); err != nil {
			return err
		}
		if r.GetState() != 6 {
			t.Errorf("stored state = %d, want 6", r.GetState())
		}
		return nil
	})
	in := testMessage(p, 2, Inbound)
	in.State = StateInMailbox
	if err := s.Update(func(tx *Txn) error { return tx.PutMessage(in) }); !errors.Is(err, ErrInvalid) {
		t.Errorf("inbound message in mailbox: %v, want ErrInvalid", err)
	}
}
