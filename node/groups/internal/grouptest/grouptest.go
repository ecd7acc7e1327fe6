// Package grouptest builds what the tests of groups' subpackages check
// against: a group with an owner and a member at epoch 0, a second group,
// a stranger, and envelopes sealed under a fresh key of any group and epoch.
package grouptest

import (
	"testing"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
)

// Fixture is a group at epoch 0 and the keys around it.
type Fixture struct {
	Owner, Member, Stranger keys.PrivateKey
	// ID is the group; Other a second group nobody here is in.
	ID, Other group.ID
	// Genesis is ID's epoch-0 roster: Owner as owner, Member as member.
	Genesis *group.Roster
	// Key is ID's epoch-0 key.
	Key group.GroupKey
}

// New makes a fixture with fresh keys and groups.
func New(t testing.TB) Fixture {
	t.Helper()
	f := Fixture{Owner: keys.GeneratePrivateKey(), Member: keys.GeneratePrivateKey(), Stranger: keys.GeneratePrivateKey()}
	f.ID, _ = group.NewGroup()
	f.Other, _ = group.NewGroup()
	f.Key = group.GroupKey{Group: f.ID, Epoch: 0, Key: group.NewEpochKey()}
	var err error
	f.Genesis, err = group.Genesis(f.Owner, f.ID, []group.Member{{Key: f.Owner.Public(), Role: group.RoleOwner}, {Key: f.Member.Public(), Role: group.RoleMember}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// Seal returns the encoding of an envelope of group g at epoch, sealed by
// by under a fresh epoch key.
func Seal(t testing.TB, g group.ID, epoch uint64, by keys.PrivateKey) []byte {
	t.Helper()
	sc, err := group.NewSendChain(group.GroupKey{Group: g, Epoch: epoch, Key: group.NewEpochKey()}, by)
	if err != nil {
		t.Fatal(err)
	}
	e, err := sc.Seal([]byte("hi"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Frame returns an envelope of gk's group and epoch, sealed by by with the
// given plaintext, framed for the epoch's topic.
func Frame(t testing.TB, gk group.GroupKey, by keys.PrivateKey, payload []byte) []byte {
	t.Helper()
	sc, err := group.NewSendChain(gk, by)
	if err != nil {
		t.Fatal(err)
	}
	e, err := sc.Seal(payload)
	if err != nil {
		t.Fatal(err)
	}
	b, err := gk.Frame(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
