package gate

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/groups/internal/grouptest"
	"github.com/backchannel/backchannel/pubsub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestValidate: the verdicts of the gate's validator, and envelopes of an
// epoch not known yet kept aside until a view reaches it.
func TestValidate(t *testing.T) {
	f := grouptest.New(t)
	owner, member, stranger := f.Owner, f.Member, f.Stranger
	id, other, r0 := f.ID, f.Other, f.Genesis
	seal := func(g group.ID, epoch uint64, by keys.PrivateKey) []byte { return grouptest.Seal(t, g, epoch, by) }
	stored := seal(id, 0, member)
	storedEnv, _ := group.UnmarshalEnvelope(stored)
	ahead := seal(id, 3, member)
	g := New(id, owner.Public().PeerID(), func(h [32]byte) bool { return h == storedEnv.Hash() }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if ready := g.SetView(&View{Latest: 0, Rosters: map[uint64]*group.Roster{0: r0}}); len(ready) != 0 {
		t.Fatalf("fresh gate handed on %d envelopes", len(ready))
	}
	for _, tc := range []struct {
		name     string
		from     string // "member", "stranger" or "self"
		data     []byte
		want     pubsub.Result
		rejected bool
	}{
		{"member's envelope", "member", seal(id, 0, member), pubsub.Accept, false},
		{"malformed", "member", []byte{1, 2, 3}, pubsub.Reject, true},
		{"another group's", "member", seal(other, 0, member), pubsub.Reject, true},
		{"a non-member from its author", "stranger", seal(id, 0, stranger), pubsub.Reject, true},
		{"a non-member relayed", "member", seal(id, 0, stranger), pubsub.Ignore, false},
		{"already stored", "member", stored, pubsub.Ignore, false},
		{"our own, stored", "self", stored, pubsub.Accept, false},
		{"an epoch ahead", "member", ahead, pubsub.Ignore, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			from := map[string]keys.PrivateKey{"member": member, "stranger": stranger, "self": owner}[tc.from].Public().PeerID()
			before := g.Rejected()
			if got := g.Validate(context.Background(), from, tc.data); got != tc.want {
				t.Errorf("verdict %v, want %v", got, tc.want)
			}
			if got := g.Rejected() > before; got != tc.rejected {
				t.Errorf("counted rejected: %v, want %v", got, tc.rejected)
			}
		})
	}
	// A view that does not reach epoch 3 keeps it; one that does hands it on.
	if ready := g.SetView(&View{Latest: 2, Rosters: map[uint64]*group.Roster{0: r0}}); len(ready) != 0 {
		t.Errorf("view of epoch 2 handed on %d envelopes", len(ready))
	}
	if ready := g.SetView(&View{Latest: 3, Rosters: map[uint64]*group.Roster{0: r0}}); !slices.EqualFunc(ready, [][]byte{ahead}, slices.Equal) {
		t.Errorf("view of epoch 3 handed on %d envelopes, want the one kept", len(ready))
	}
}
