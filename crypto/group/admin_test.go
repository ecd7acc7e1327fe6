package group

import (
	"errors"
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

// adminFixture: owner, two admins (ann, abe), a member (mia) and an outsider.
type adminFixture struct {
	owner, ann, abe, mia, out keys.PrivateKey
	r0                        *Roster
}

func newAdminFixture(t testing.TB) adminFixture {
	t.Helper()
	f := adminFixture{
		owner: keys.GeneratePrivateKey(), ann: keys.GeneratePrivateKey(), abe: keys.GeneratePrivateKey(),
		mia: keys.GeneratePrivateKey(), out: keys.GeneratePrivateKey(),
	}
	id, _ := NewGroup()
	var err error
	f.r0, err = Genesis(f.owner, id, f.members(nil))
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// members is the fixture's genesis list changed by edit (nil: unchanged).
func (f adminFixture) members(edit func([]Member) []Member) []Member {
	ms := []Member{
		{f.owner.Public(), RoleOwner}, {f.ann.Public(), RoleAdmin},
		{f.abe.Public(), RoleAdmin}, {f.mia.Public(), RoleMember},
	}
	if edit != nil {
		ms = edit(ms)
	}
	return ms
}

func without(k keys.PublicKey) func([]Member) []Member {
	return func(ms []Member) []Member {
		var out []Member
		for _, m := range ms {
			if m.Key != k {
				out = append(out, m)
			}
		}
		return out
	}
}

func with(m Member) func([]Member) []Member {
	return func(ms []Member) []Member { return append(without(m.Key)(ms), m) }
}

// TestRosterAdminRule: an admin of the previous roster may sign the next
// one to add or remove members (itself included), but not touch the owner or
// other admins' roles, nor make admins; a member or an outsider may not sign
// at all. Next refuses what VerifyFollows would refuse.
func TestRosterAdminRule(t *testing.T) {
	f := newAdminFixture(t)
	newcomer := keys.GeneratePrivateKey().Public()
	tests := []struct {
		name    string
		signer  keys.PrivateKey
		members []Member
		want    error
	}{
		{"owner removes an admin", f.owner, f.members(without(f.ann.Public())), nil},
		{"owner grants admin", f.owner, f.members(with(Member{f.mia.Public(), RoleAdmin})), nil},
		{"owner hands over ownership", f.owner, f.members(func(ms []Member) []Member {
			return with(Member{f.ann.Public(), RoleOwner})(with(Member{f.owner.Public(), RoleMember})(ms))
		}), nil},
		{"admin adds a member", f.ann, f.members(with(Member{newcomer, RoleMember})), nil},
		{"admin removes a member", f.ann, f.members(without(f.mia.Public())), nil},
		{"admin rekeys", f.ann, f.members(nil), nil},
		{"admin signs itself out", f.ann, f.members(without(f.ann.Public())), nil},
		{"admin removes another admin", f.ann, f.members(without(f.abe.Public())), ErrBrokenChain},
		{"admin demotes another admin", f.ann, f.members(with(Member{f.abe.Public(), RoleMember})), ErrBrokenChain},
		{"admin grants admin", f.ann, f.members(with(Member{f.mia.Public(), RoleAdmin})), ErrBrokenChain},
		{"admin adds an admin", f.ann, f.members(with(Member{newcomer, RoleAdmin})), ErrBrokenChain},
		{"admin removes the owner", f.ann, f.members(func(ms []Member) []Member {
			return with(Member{f.ann.Public(), RoleOwner})(without(f.owner.Public())(ms))
		}), ErrBrokenChain},
		{"admin takes ownership", f.ann, f.members(func(ms []Member) []Member {
			return with(Member{f.ann.Public(), RoleOwner})(with(Member{f.owner.Public(), RoleMember})(ms))
		}), ErrBrokenChain},
		{"member signs", f.mia, f.members(without(f.abe.Public())), ErrBrokenChain},
		{"outsider signs", f.out, f.members(with(Member{f.out.Public(), RoleMember})), ErrBrokenChain},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r1, err := f.r0.Next(tc.signer, tc.members)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Next = %v, want %v", err, tc.want)
			}
			if tc.want == nil {
				if r1.Signer != tc.signer.Public() {
					t.Fatalf("Signer = %s, want %s", r1.Signer, tc.signer.Public())
				}
				if err := r1.VerifyFollows(f.r0); err != nil {
					t.Fatalf("VerifyFollows of what Next made: %v", err)
				}
				back, err := UnmarshalRoster(mustMarshal(t, r1))
				if err != nil || back.Hash() != r1.Hash() || back.Signer != r1.Signer {
					t.Fatalf("round trip: %v", err)
				}
				return
			}
			// The same roster signed by hand must fail verification alike.
			forged := resignAs(&Roster{Group: f.r0.Group, Epoch: 1, PrevHash: f.r0.Hash(), Members: sortedMembers(tc.members)}, tc.signer)
			if err := forged.VerifyFollows(f.r0); !errors.Is(err, tc.want) {
				t.Fatalf("VerifyFollows = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestRosterAdminChain: rights follow the previous roster, not the signer's
// own claims: a demoted admin can no longer sign, a promoted member can.
func TestRosterAdminChain(t *testing.T) {
	f := newAdminFixture(t)
	// Epoch 1: the owner demotes ann and promotes mia.
	r1, err := f.r0.Next(f.owner, f.members(func(ms []Member) []Member {
		return with(Member{f.mia.Public(), RoleAdmin})(with(Member{f.ann.Public(), RoleMember})(ms))
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r1.Next(f.ann, r1.Members); !errors.Is(err, ErrBrokenChain) {
		t.Fatalf("a demoted admin signed epoch 2: %v", err)
	}
	r2, err := r1.Next(f.mia, r1.Members)
	if err != nil {
		t.Fatalf("a promoted member could not sign: %v", err)
	}
	if err := VerifyChain(f.owner.Public(), []*Roster{f.r0, r1, r2}); err != nil {
		t.Fatal(err)
	}
	byAnn := resignAs(cloneRoster(r2), f.ann)
	if err := VerifyChain(f.owner.Public(), []*Roster{f.r0, r1, byAnn}); !errors.Is(err, ErrBrokenChain) {
		t.Fatalf("chain with a roster signed by a demoted admin: %v", err)
	}
}

// TestRosterFork: two admins sign competing rosters for the same epoch. Both
// follow the previous roster; Beats picks the same winner whichever way it
// is asked, and never both.
func TestRosterFork(t *testing.T) {
	f := newAdminFixture(t)
	a, err := f.r0.Next(f.ann, f.members(without(f.mia.Public())))
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.r0.Next(f.abe, f.members(with(Member{keys.GeneratePrivateKey().Public(), RoleMember})))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Roster{a, b} {
		if err := r.VerifyFollows(f.r0); err != nil {
			t.Fatal(err)
		}
	}
	if a.Beats(b) == b.Beats(a) {
		t.Fatalf("Beats is not a strict order: a.Beats(b) = %v, b.Beats(a) = %v", a.Beats(b), b.Beats(a))
	}
	if a.Beats(a) {
		t.Fatal("a roster beats itself")
	}
	winner := a
	if b.Beats(a) {
		winner = b
	}
	ha, hb := a.Hash(), b.Hash()
	if lower := min(ha.String(), hb.String()); winner.Hash().String() != lower {
		t.Fatal("the winner is not the lower hash")
	}
}

func TestRosterVerifySignature(t *testing.T) {
	f := newAdminFixture(t)
	r1, err := f.r0.Next(f.ann, f.members(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []*Roster{f.r0, r1} {
		if err := r.VerifySignature(); err != nil {
			t.Fatalf("epoch %d: %v", r.Epoch, err)
		}
	}
	tests := []struct {
		name string
		r    *Roster
		want error
	}{
		{"signer swapped", func() *Roster { r := cloneRoster(r1); r.Signer = f.abe.Public(); return r }(), ErrBadSignature},
		{"member added", func() *Roster {
			r := cloneRoster(r1)
			r.Members = sortedMembers(append(r.Members, Member{f.out.Public(), RoleMember}))
			return r
		}(), ErrBadSignature},
		{"an outsider's own roster", resignAs(cloneRoster(r1), f.out), nil}, // well signed; trusting it is the caller's call
		{"malformed", func() *Roster { r := cloneRoster(r1); r.Members = nil; return r }(), ErrMalformed},
	}
	for _, tc := range tests {
		if err := tc.r.VerifySignature(); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
}

// TestOpenVerified: OpenVerified opens what Open opens and refuses the same
// wrong chains and replays; only the signature check is the caller's.
func TestOpenVerified(t *testing.T) {
	gk := newGroupKey(t)
	sk := keys.GeneratePrivateKey()
	sc := mustSendChain(t, gk, sk)
	e0, e1 := mustSeal(t, sc, "zero"), mustSeal(t, sc, "one")
	rc := mustReceiveChain(t, gk, sk.Public())
	for _, e := range []*Envelope{e1, e0} {
		want := map[uint64]string{0: "zero", 1: "one"}[e.Seq]
		if pt, err := rc.OpenVerified(e); err != nil || string(pt) != want {
			t.Fatalf("OpenVerified(%d) = %q, %v", e.Seq, pt, err)
		}
	}
	if _, err := rc.OpenVerified(e0); !errors.Is(err, ErrReplay) {
		t.Fatalf("replay: %v", err)
	}
	other := mustReceiveChain(t, gk, keys.GeneratePrivateKey().Public())
	if _, err := other.OpenVerified(e0); !errors.Is(err, ErrWrongChain) {
		t.Fatalf("wrong chain: %v", err)
	}
	bad := cloneEnvelope(mustSeal(t, sc, "two"))
	bad.Ciphertext[0] ^= 1
	if _, err := rc.OpenVerified(bad); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("tampered ciphertext: %v", err)
	}
}
