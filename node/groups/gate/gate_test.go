package gate

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/groups/internal/grouptest"
	"github.com/backchannel/backchannel/pubsub"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestValidate: the verdicts of the validator of an epoch's topic.
func TestValidate(t *testing.T) {
	f := grouptest.New(t)
	owner, member, stranger := f.Owner, f.Member, f.Stranger
	gk := f.Key
	n := 0
	frame := func(by keys.PrivateKey) []byte { n++; return grouptest.Frame(t, gk, by, []byte{byte(n)}) }
	stored := frame(member)
	storedEnv, err := gk.Unframe(stored)
	if err != nil {
		t.Fatal(err)
	}
	otherEpoch := gk
	otherEpoch.Key = group.NewEpochKey()
	otherGroup := group.GroupKey{Group: f.Other, Epoch: 0, Key: group.NewEpochKey()}
	g := New(f.ID, owner.Public().PeerID(), func(h [32]byte) bool { return h == storedEnv.Hash() }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	g.SetView(&View{Latest: 0, Rosters: map[uint64]*group.Roster{0: f.Genesis}})
	for _, tc := range []struct {
		name     string
		from     keys.PrivateKey
		data     []byte
		want     pubsub.Result
		rejected bool
	}{
		{"member's envelope", member, frame(member), pubsub.Accept, false},
		{"malformed", member, []byte{1, 2, 3}, pubsub.Reject, true},
		{"sealed under another key of the epoch", member, grouptest.Frame(t, otherEpoch, member, []byte("hi")), pubsub.Reject, true},
		{"another group's", member, grouptest.Frame(t, otherGroup, member, []byte("hi")), pubsub.Reject, true},
		{"forwarded by a non-member", stranger, frame(member), pubsub.Reject, true},
		{"a non-member's, from its author", stranger, frame(stranger), pubsub.Reject, true},
		{"a non-member's, relayed by a member", member, frame(stranger), pubsub.Reject, true},
		{"already stored", member, stored, pubsub.Ignore, false},
		{"our own, stored", owner, stored, pubsub.Accept, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := g.Rejected()
			got, decoded := g.Validator(gk)(context.Background(), tc.from.Public().PeerID(), tc.data)
			if got != tc.want {
				t.Errorf("verdict %v, want %v", got, tc.want)
			}
			if e, ok := decoded.(*group.Envelope); (got == pubsub.Accept) != ok || ok && e.Epoch != gk.Epoch {
				t.Errorf("decoded %v with verdict %v", decoded, got)
			}
			if got := g.Rejected() > before; got != tc.rejected {
				t.Errorf("counted rejected: %v, want %v", got, tc.rejected)
			}
		})
	}
}

// TestValidateGraceWindow: once an epoch's grace window is over, its
// author's posts into it are rejected (scored) and relayed ones ignored;
// before, and after ReopenEpoch, they pass.
func TestValidateGraceWindow(t *testing.T) {
	f := grouptest.New(t)
	g := New(f.ID, f.Owner.Public().PeerID(), func([32]byte) bool { return false }, slog.New(slog.NewTextHandler(io.Discard, nil)))
	g.SetView(&View{Latest: 1, Rosters: map[uint64]*group.Roster{0: f.Genesis}})
	now := time.Now()
	g.now = func() time.Time { return now }
	v := g.Validator(f.Key)
	post := func(from keys.PrivateKey) pubsub.Result {
		r, _ := v(context.Background(), from.Public().PeerID(), grouptest.Frame(t, f.Key, f.Member, []byte("late")))
		return r
	}
	g.EndEpoch(0, now.Add(time.Minute))
	if got := post(f.Member); got != pubsub.Accept {
		t.Fatalf("inside the window: %v", got)
	}
	now = now.Add(2 * time.Minute)
	if got := post(f.Member); got != pubsub.Reject {
		t.Fatalf("after the window, from its author: %v, want Reject", got)
	}
	if got := post(f.Owner); got != pubsub.Ignore {
		t.Fatalf("after the window, relayed by a member: %v, want Ignore", got)
	}
	g.ReopenEpoch(0)
	if got := post(f.Member); got != pubsub.Accept {
		t.Fatalf("after ReopenEpoch: %v", got)
	}
}
