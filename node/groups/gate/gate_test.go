package gate

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/groups/internal/grouptest"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
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

// sealSized seals an envelope of about size bytes for epoch, by by.
func sealSized(t *testing.T, g group.ID, epoch uint64, by keys.PrivateKey, size int) []byte {
	return grouptest.SealPayload(t, g, epoch, by, make([]byte, size))
}

// TestStashBounded: what an outsider or a busy forwarder can make a member
// keep aside for epochs it does not know yet is bounded. Envelopes of
// fresh keys (not in the newest roster) are rejected from their author,
// so scored, and never kept; a member's envelopes are kept up to the
// per-forwarder and total byte bounds, and expire.
func TestStashBounded(t *testing.T) {
	f := grouptest.New(t)
	owner, member := f.Owner, f.Member
	g := New(f.ID, owner.Public().PeerID(), func([32]byte) bool { return false }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	g.SetView(&View{Latest: 0, Rosters: map[uint64]*group.Roster{0: f.Genesis}})
	const size = 60 << 10

	// Outsiders, a fresh key per envelope, each sending its own.
	for i := range 64 {
		k := keys.GeneratePrivateKey()
		data := sealSized(t, f.ID, uint64(1+i%maxEpochAhead), k, size)
		if got := g.Validate(context.Background(), k.Public().PeerID(), data); got != pubsub.Reject {
			t.Fatalf("outsider's future envelope from its author: %v, want Reject", got)
		}
	}
	if got := g.stashBytes(); got != 0 {
		t.Fatalf("outsiders made the gate keep %d bytes", got)
	}
	if got := g.Rejected(); got != 64 {
		t.Errorf("rejected %d, want 64 (scored)", got)
	}

	// A member's envelopes for epoch 1, through two forwarders.
	fwd1, fwd2 := keys.GeneratePrivateKey().Public().PeerID(), keys.GeneratePrivateKey().Public().PeerID()
	for range 40 {
		for _, fwd := range []peer.ID{fwd1, fwd2} {
			if got := g.Validate(context.Background(), fwd, sealSized(t, f.ID, 1, member, size)); got != pubsub.Ignore {
				t.Fatalf("member's future envelope: %v, want Ignore", got)
			}
		}
	}
	if got := g.stashBytes(); got > 2*maxStashPerPeer || got < maxStashPerPeer {
		t.Errorf("stash holds %d bytes from two forwarders, want at most %d each", got, maxStashPerPeer)
	}

	// Later, the same forwarder again: what waited past stashTTL is gone.
	g.now = func() time.Time { return time.Now().Add(stashTTL + time.Second) }
	g.Validate(context.Background(), fwd1, sealSized(t, f.ID, 1, member, size))
	if got := g.stashBytes(); got > 2*size {
		t.Errorf("after stashTTL the stash holds %d bytes, want only the newest envelope", got)
	}
	if ready := g.SetView(&View{Latest: 1, Rosters: map[uint64]*group.Roster{0: f.Genesis}}); len(ready) != 1 {
		t.Errorf("view of epoch 1 handed on %d envelopes, want 1", len(ready))
	}
	if got := g.stashBytes(); got != 0 {
		t.Errorf("stash holds %d bytes after handing on everything", got)
	}
}
