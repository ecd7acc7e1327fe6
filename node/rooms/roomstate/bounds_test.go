package roomstate

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

// records counts what the state's maps hold besides role grants: at most
// one entry per message held.
func (s *State) records() int {
	n := len(s.chats) + len(s.questions) + len(s.pins) + len(s.presence)
	for _, votes := range s.upvotes {
		for _, ts := range votes {
			n += len(ts)
		}
	}
	for _, byEmoji := range s.reactions {
		for _, who := range byEmoji {
			for _, ts := range who {
				n += len(ts)
			}
		}
	}
	for _, as := range s.answered {
		n += len(as)
	}
	for _, as := range s.hides {
		n += len(as)
	}
	for _, ms := range s.mutes {
		n += len(ms)
	}
	return n
}

// TestStateBoundedWindow: a state bounded to k messages answers every query
// as a fresh state given the room's grants and the k messages applied last,
// and holds nothing of the others.
func TestStateBoundedWindow(t *testing.T) {
	sc := newScenario(t)
	var grants, rest []room.Message
	for _, m := range sc.msgs {
		if m.Kind == room.KindRoleGrant {
			grants = append(grants, m)
		} else {
			rest = append(rest, m)
		}
	}
	for _, k := range []int{1, 20, 100, 250, len(rest) - 1, len(rest), len(rest) + 10} {
		t.Run(fmt.Sprint("k=", k), func(t *testing.T) {
			bounded := sc.f.state()
			bounded.SetLimits(k, DefaultMaxBytes)
			applyAll(t, bounded, sc.msgs)
			fresh := sc.f.state()
			applyAll(t, fresh, grants)
			applyAll(t, fresh, rest[max(0, len(rest)-k):])
			if got, want := sc.snapshot(bounded), sc.snapshot(fresh); !reflect.DeepEqual(got, want) {
				t.Errorf("k=%d: bounded state answers\n%+v\nwant\n%+v", k, got, want)
			}
			if bounded.Len() != fresh.Len() || bounded.records() != fresh.records() {
				t.Errorf("k=%d: bounded state holds %d messages, %d records; want %d, %d",
					k, bounded.Len(), bounded.records(), fresh.Len(), fresh.records())
			}
		})
	}
}

// TestStateBounds: a flood of messages from fresh keys (which the sender
// rate limit does not see) leaves the state within its bounds in count and
// in bytes.
func TestStateBounds(t *testing.T) {
	f := newFixture(t, 0)
	long := strings.Repeat("x", 990)
	sizeOf := func(text string) int { return len(f.chat(f.host, t0, text).Body) + messageOverhead }
	tests := []struct {
		name            string
		messages, bytes int
		body            string
		want            int // messages held after the flood
	}{
		{"short lines: the count binds", 50, DefaultMaxBytes, "hello", 50},
		{"long lines: the bytes bind", 1000, 64 << 10, long, (64 << 10) / sizeOf(long)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := f.state()
			s.SetLimits(tc.messages, tc.bytes)
			for i := range 300 {
				m := f.chat(keys.GeneratePrivateKey(), t0.Add(time.Duration(i)*time.Millisecond), tc.body)
				if err := s.Apply(m); err != nil {
					t.Fatal(err)
				}
			}
			if s.Len() != tc.want || s.records() != tc.want {
				t.Errorf("state holds %d messages, %d records; want %d", s.Len(), s.records(), tc.want)
			}
			if got := len(s.Chat(0)); got != tc.want {
				t.Errorf("chat shows %d lines, want %d", got, tc.want)
			}
		})
	}
}
