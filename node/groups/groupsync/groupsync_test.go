package groupsync

import (
	"errors"
	"testing"

	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/internal/grouptest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestEnvelopes: an answer's envelopes are handed on in order once checked
// against their epoch's roster; one of an epoch not held is left out, and
// anything malformed, foreign or forged ends the answer as a protocol error.
func TestEnvelopes(t *testing.T) {
	f := grouptest.New(t)
	owner, member, stranger := f.Owner, f.Member, f.Stranger
	id, other, r0 := f.ID, f.Other, f.Genesis
	seal := func(g group.ID, epoch uint64, by keys.PrivateKey) []byte { return grouptest.Seal(t, g, epoch, by) }
	a, b, unknown := seal(id, 0, member), seal(id, 0, owner), seal(id, 5, member)
	rosterAt := func(epoch uint64) *group.Roster {
		if epoch == 0 {
			return r0
		}
		return nil
	}
	for _, tc := range []struct {
		name      string
		envelopes [][]byte
		want      int  // envelopes handed on
		protocol  bool // ends with a protocol error
	}{
		{"members' envelopes in order", [][]byte{a, b}, 2, false},
		{"an epoch not held left out", [][]byte{a, unknown, b}, 2, false},
		{"malformed", [][]byte{a, {1, 2}}, 1, true},
		{"another group's", [][]byte{seal(other, 0, member)}, 0, true},
		{"a non-member's", [][]byte{seal(id, 0, stranger)}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got [][]byte
			err := Envelopes(&groupspb.GroupSyncResponse{Envelopes: tc.envelopes}, id, rosterAt, func(_ *group.Envelope, d []byte) error {
				got = append(got, d)
				return nil
			})
			if len(got) != tc.want {
				t.Errorf("%d envelopes handed on, want %d", len(got), tc.want)
			}
			if errors.Is(err, errs.ErrProtocol) != tc.protocol {
				t.Errorf("error %v, want a protocol error: %v", err, tc.protocol)
			}
		})
	}
	stop := errors.New("store failed")
	if err := Envelopes(&groupspb.GroupSyncResponse{Envelopes: [][]byte{a, b}}, id, rosterAt, func(*group.Envelope, []byte) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("each's error: %v, want %v", err, stop)
	}
}

// TestRosters: an answer's rosters decode in order; a malformed one is a
// protocol error.
func TestRosters(t *testing.T) {
	owner := keys.GeneratePrivateKey()
	id, _ := group.NewGroup()
	r0, err := group.Genesis(owner, id, []group.Member{{Key: owner.Public(), Role: group.RoleOwner}})
	if err != nil {
		t.Fatal(err)
	}
	rb, _ := r0.MarshalBinary()
	rs, err := Rosters(&groupspb.GroupSyncResponse{Rosters: [][]byte{rb}})
	if err != nil || len(rs) != 1 || rs[0].Hash() != r0.Hash() {
		t.Errorf("Rosters: %v, %v", rs, err)
	}
	if _, err := Rosters(&groupspb.GroupSyncResponse{Rosters: [][]byte{rb, {7}}}); !errors.Is(err, errs.ErrProtocol) {
		t.Errorf("a malformed roster: %v, want a protocol error", err)
	}
}
