package group

import (
	"bytes"
	"errors"
	"slices"
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

// rosterFixture is a group with an owner, two members and two rosters.
type rosterFixture struct {
	owner, alice, bob, mallory keys.PrivateKey
	r0, r1                     *Roster // r1 removes bob
}

func newRosterFixture(t testing.TB) rosterFixture {
	t.Helper()
	f := rosterFixture{
		owner: keys.GeneratePrivateKey(), alice: keys.GeneratePrivateKey(),
		bob: keys.GeneratePrivateKey(), mallory: keys.GeneratePrivateKey(),
	}
	id, _ := NewGroup()
	var err error
	f.r0, err = Genesis(f.owner, id, []Member{
		{f.alice.Public(), RoleMember}, {f.owner.Public(), RoleOwner}, {f.bob.Public(), RoleAdmin},
	})
	if err != nil {
		t.Fatal(err)
	}
	f.r1, err = f.r0.Next(f.owner, []Member{{f.owner.Public(), RoleOwner}, {f.alice.Public(), RoleMember}})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestRosterBasics(t *testing.T) {
	f := newRosterFixture(t)
	if err := VerifyChain(f.owner.Public(), []*Roster{f.r0, f.r1}); err != nil {
		t.Fatal(err)
	}
	if f.r1.Epoch != 1 || f.r1.PrevHash != f.r0.Hash() || f.r1.Group != f.r0.Group {
		t.Fatalf("Next made epoch %d with previous hash %s", f.r1.Epoch, f.r1.PrevHash)
	}
	if !slices.IsSortedFunc(f.r0.Members, func(a, b Member) int { return bytes.Compare(a.Key[:], b.Key[:]) }) {
		t.Error("Genesis did not sort the members")
	}
	tests := []struct {
		r    *Roster
		key  keys.PublicKey
		want Role
	}{
		{f.r0, f.owner.Public(), RoleOwner},
		{f.r0, f.alice.Public(), RoleMember},
		{f.r0, f.bob.Public(), RoleAdmin},
		{f.r0, f.mallory.Public(), RoleNone},
		{f.r1, f.bob.Public(), RoleNone},
		{f.r1, f.alice.Public(), RoleMember},
	}
	for _, tc := range tests {
		if got := tc.r.Role(tc.key); got != tc.want {
			t.Errorf("epoch %d: Role(%s) = %s, want %s", tc.r.Epoch, tc.key, got, tc.want)
		}
		if got := tc.r.IsMember(tc.key); got != (tc.want != RoleNone) {
			t.Errorf("epoch %d: IsMember(%s) = %v", tc.r.Epoch, tc.key, got)
		}
	}
	if f.r0.Hash() == f.r1.Hash() {
		t.Error("two rosters hash the same")
	}
}

func TestRosterWireRoundTrip(t *testing.T) {
	f := newRosterFixture(t)
	for _, r := range []*Roster{f.r0, f.r1} {
		back, err := UnmarshalRoster(mustMarshal(t, r))
		if err != nil {
			t.Fatal(err)
		}
		if back.Hash() != r.Hash() {
			t.Fatalf("epoch %d: round trip changed the roster", r.Epoch)
		}
	}
}

func TestRosterFollowsRejections(t *testing.T) {
	f := newRosterFixture(t)
	carol := keys.GeneratePrivateKey()
	tests := []struct {
		name   string
		tamper func(r *Roster) *Roster
		want   error
	}{
		{"genuine", func(r *Roster) *Roster { return r }, nil},
		{"wrong previous hash", func(r *Roster) *Roster { r.PrevHash[0] ^= 1; return resign(r, f.owner) }, ErrBrokenChain},
		{"zero previous hash", func(r *Roster) *Roster { r.PrevHash = Hash{}; return resign(r, f.owner) }, ErrBrokenChain},
		{"skipped epoch", func(r *Roster) *Roster { r.Epoch = 2; return resign(r, f.owner) }, ErrBrokenChain},
		{"same epoch", func(r *Roster) *Roster { r.Epoch = 0; return resign(r, f.owner) }, ErrBrokenChain},
		{"other group", func(r *Roster) *Roster { r.Group[0] ^= 1; return resign(r, f.owner) }, ErrBrokenChain},
		{"signed by a member", func(r *Roster) *Roster { return resign(r, f.alice) }, ErrBadSignature},
		{"signed by an admin", func(r *Roster) *Roster { return resign(r, f.bob) }, ErrBadSignature},
		{"signed by an outsider", func(r *Roster) *Roster { return resign(r, f.mallory) }, ErrBadSignature},
		{"signer swapped after signing", func(r *Roster) *Roster { r.Signer = f.bob.Public(); return r }, ErrBadSignature},
		{"zero signer", func(r *Roster) *Roster { r.Signer = keys.PublicKey{}; return r }, ErrMalformed},
		{"signed as a member", func(r *Roster) *Roster { return resignAs(r, f.alice) }, ErrBrokenChain},
		{"signed as an outsider", func(r *Roster) *Roster { return resignAs(r, f.mallory) }, ErrBrokenChain},
		{"member added after signing", func(r *Roster) *Roster {
			r.Members = sortedMembers(append(r.Members, Member{f.mallory.Public(), RoleMember}))
			return r
		}, ErrBadSignature},
		{"member removed after signing", func(r *Roster) *Roster {
			r.Members = slices.DeleteFunc(r.Members, func(m Member) bool { return m.Role != RoleOwner })
			return r
		}, ErrBadSignature},
		{"role raised after signing", func(r *Roster) *Roster {
			for i := range r.Members {
				if r.Members[i].Role == RoleMember {
					r.Members[i].Role = RoleAdmin
				}
			}
			return r
		}, ErrBadSignature},
		{"no signature", func(r *Roster) *Roster { r.Signature = nil; return r }, ErrBadSignature},
		{"duplicate member", func(r *Roster) *Roster {
			r.Members = sortedMembers(append(r.Members, Member{f.alice.Public(), RoleMember}))
			return resign(r, f.owner)
		}, ErrMalformed},
		{"no owner", func(r *Roster) *Roster {
			r.Members = slices.DeleteFunc(r.Members, func(m Member) bool { return m.Role == RoleOwner })
			return resign(r, f.owner)
		}, ErrMalformed},
		{"two owners", func(r *Roster) *Roster {
			r.Members = sortedMembers(append(r.Members, Member{carol.Public(), RoleOwner}))
			return resign(r, f.owner)
		}, ErrMalformed},
		{"members out of order", func(r *Roster) *Roster {
			slices.Reverse(r.Members)
			return resign(r, f.owner)
		}, ErrMalformed},
		{"zero member key", func(r *Roster) *Roster {
			r.Members = sortedMembers(append(r.Members, Member{keys.PublicKey{}, RoleMember}))
			return resign(r, f.owner)
		}, ErrMalformed},
		{"unknown role", func(r *Roster) *Roster {
			r.Members = sortedMembers(append(r.Members, Member{carol.Public(), RoleMember + 1}))
			return resign(r, f.owner)
		}, ErrMalformed},
		{"no members", func(r *Roster) *Roster { r.Members = nil; return resign(r, f.owner) }, ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.tamper(cloneRoster(f.r1))
			if err := r.VerifyFollows(f.r0); !errors.Is(err, tc.want) {
				t.Errorf("VerifyFollows = %v, want %v", err, tc.want)
			}
			if err := VerifyChain(f.owner.Public(), []*Roster{f.r0, r}); !errors.Is(err, tc.want) {
				t.Errorf("VerifyChain = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestRosterGenesisRejections(t *testing.T) {
	f := newRosterFixture(t)
	tests := []struct {
		name   string
		owner  keys.PublicKey
		tamper func(r *Roster) *Roster
		want   error
	}{
		{"genuine", f.owner.Public(), func(r *Roster) *Roster { return r }, nil},
		{"another owner expected", f.alice.Public(), func(r *Roster) *Roster { return r }, ErrBrokenChain},
		{"nonzero previous hash", f.owner.Public(), func(r *Roster) *Roster { r.PrevHash[0] = 1; return resign(r, f.owner) }, ErrBrokenChain},
		{"epoch 1", f.owner.Public(), func(r *Roster) *Roster { r.Epoch = 1; return resign(r, f.owner) }, ErrBrokenChain},
		{"signed by another", f.owner.Public(), func(r *Roster) *Roster { return resign(r, f.mallory) }, ErrBadSignature},
		{"mallory's own genesis for the group", f.mallory.Public(), func(r *Roster) *Roster {
			r.Members = sortedMembers([]Member{{f.mallory.Public(), RoleOwner}, {f.alice.Public(), RoleMember}})
			return resignAs(r, f.mallory)
		}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.tamper(cloneRoster(f.r0))
			if err := r.VerifyGenesis(tc.owner); !errors.Is(err, tc.want) {
				t.Errorf("VerifyGenesis = %v, want %v", err, tc.want)
			}
		})
	}
	// Mallory can make a genesis for any group ID, but only the owner the
	// invitation names is accepted.
	fake := cloneRoster(f.r0)
	fake.Members = sortedMembers([]Member{{f.mallory.Public(), RoleOwner}})
	resign(fake, f.mallory)
	if err := VerifyChain(f.owner.Public(), []*Roster{fake}); !errors.Is(err, ErrBrokenChain) {
		t.Errorf("VerifyChain of a genesis by another owner = %v, want ErrBrokenChain", err)
	}
}

func TestRosterChain(t *testing.T) {
	f := newRosterFixture(t)
	carol := keys.GeneratePrivateKey()
	// Epoch 2 hands ownership to alice; epoch 3 must then be signed by her.
	r2, err := f.r1.Next(f.owner, []Member{{f.owner.Public(), RoleMember}, {f.alice.Public(), RoleOwner}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Next(f.owner, []Member{{f.owner.Public(), RoleOwner}}); !errors.Is(err, ErrBrokenChain) {
		t.Fatalf("former owner signed the next roster: err = %v, want ErrBrokenChain", err)
	}
	r3, err := r2.Next(f.alice, []Member{{f.alice.Public(), RoleOwner}, {carol.Public(), RoleMember}})
	if err != nil {
		t.Fatal(err)
	}
	chain := []*Roster{f.r0, f.r1, r2, r3}
	if err := VerifyChain(f.owner.Public(), chain); err != nil {
		t.Fatal(err)
	}
	forgedByOldOwner := resign(cloneRoster(r3), f.owner)
	tests := []struct {
		name  string
		chain []*Roster
		want  error
	}{
		{"empty", nil, ErrBrokenChain},
		{"without genesis", chain[1:], ErrBrokenChain},
		{"missing middle", []*Roster{f.r0, f.r1, r3}, ErrBrokenChain},
		{"swapped", []*Roster{f.r0, r2, f.r1, r3}, ErrBrokenChain},
		{"repeated", []*Roster{f.r0, f.r1, f.r1, r2}, ErrBrokenChain},
		{"last signed by the former owner", []*Roster{f.r0, f.r1, r2, forgedByOldOwner}, ErrBadSignature},
		{"a fork in the middle", []*Roster{f.r0, resign(cloneRoster(f.r1), f.alice), r2}, ErrBadSignature},
	}
	for _, tc := range tests {
		if err := VerifyChain(f.owner.Public(), tc.chain); !errors.Is(err, tc.want) {
			t.Errorf("%s: VerifyChain = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestRosterBuildErrors(t *testing.T) {
	f := newRosterFixture(t)
	id, _ := NewGroup()
	many := make([]Member, MaxMembers+1)
	many[0] = Member{f.owner.Public(), RoleOwner}
	for i := 1; i < len(many); i++ {
		many[i] = Member{keys.GeneratePrivateKey().Public(), RoleMember}
	}
	owner := []Member{{f.owner.Public(), RoleOwner}}
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"genesis: zero group", err1(Genesis(f.owner, ID{}, owner)), ErrMalformed},
		{"genesis: zero signer", err1(Genesis(keys.PrivateKey{}, id, owner)), ErrMalformed},
		{"genesis: signer not the owner", err1(Genesis(f.alice, id, owner)), ErrMalformed},
		{"genesis: duplicate", err1(Genesis(f.owner, id, append(owner, owner[0]))), ErrMalformed},
		{"genesis: too many members", err1(Genesis(f.owner, id, many)), ErrTooLarge},
		{"next: not the owner", err1(f.r0.Next(f.alice, owner)), ErrBrokenChain},
		{"next: no owner", err1(f.r0.Next(f.owner, []Member{{f.alice.Public(), RoleMember}})), ErrMalformed},
		{"marshal: unsigned", err1((&Roster{Group: id, Members: owner}).MarshalBinary()), ErrMalformed},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if r, err := Genesis(f.owner, id, many[:MaxMembers]); err != nil {
		t.Errorf("genesis with MaxMembers: %v", err)
	} else if _, err := UnmarshalRoster(mustMarshal(t, r)); err != nil {
		t.Errorf("decoding a roster of MaxMembers: %v", err)
	}
}
