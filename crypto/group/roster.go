package group

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/keys"
)

// MaxMembers is the most members a roster may list. Groups are designed for
// about a hundred.
const MaxMembers = 1000

const (
	domainRoster    = "group/roster/v2"                  // the signer's signature
	labelRosterHash = "backchannel/group/roster-hash/v2" // Roster.Hash
)

// Role is a member's role in a group. The zero value, RoleNone, means not a
// member.
type Role uint8

// Roles, from most to least privileged.
const (
	RoleNone   Role = iota // not a member; never in a roster
	RoleOwner              // signs the next roster; exactly one per roster
	RoleAdmin              // signs the next roster, adding and removing members only
	RoleMember             // reads and sends messages
)

func (r Role) valid() bool { return r >= RoleOwner && r <= RoleMember }

// String returns the role's name.
func (r Role) String() string {
	switch r {
	case RoleNone:
		return "none"
	case RoleOwner:
		return "owner"
	case RoleAdmin:
		return "admin"
	case RoleMember:
		return "member"
	}
	return fmt.Sprintf("Role(%d)", uint8(r))
}

// Member is one entry of a roster.
type Member struct {
	Key  keys.PublicKey
	Role Role
}

// Hash is the SHA-256 hash of a signed roster (see Roster.Hash).
type Hash [sha256.Size]byte

// IsZero reports whether h is the zero value, the PrevHash of epoch 0.
func (h Hash) IsZero() bool { return h == Hash{} }

// String returns the hash in lowercase hex.
func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// Roster is the signed member list of one epoch of a group. Rosters form a
// hash chain: epoch 0 (genesis) has a zero PrevHash and is signed by its
// owner; each later roster holds the Hash of the one before it and is signed
// by that one's owner or one of its admins (see VerifyFollows for what an
// admin may change). Signer names the key that signed, and is signed too.
//
// Members are sorted by key, unique, and exactly one is the owner. Build
// rosters with Genesis and Next, which sort and sign; check received ones
// with VerifyGenesis, VerifyFollows or VerifyChain.
//
// Two admins may each sign a roster for the same epoch after the same
// predecessor: a fork. Every node resolves it the same way, keeping the
// roster that Beats the other (the lower Hash); see Beats.
type Roster struct {
	Group     ID
	Epoch     uint64
	PrevHash  Hash
	Signer    keys.PublicKey
	Members   []Member
	Signature []byte
}

// Genesis makes and signs the roster of a new group's epoch 0. members is the
// whole list, in any order; it must give owner's key the role RoleOwner and
// no one else that role.
func Genesis(owner keys.PrivateKey, group ID, members []Member) (*Roster, error) {
	if owner.IsZero() {
		return nil, fmt.Errorf("%w: zero owner key", ErrMalformed)
	}
	r := &Roster{Group: group, Signer: owner.Public(), Members: sortedMembers(members)}
	if err := r.validate(); err != nil {
		return nil, err
	}
	if r.Owner() != owner.Public() {
		return nil, fmt.Errorf("%w: genesis roster names %s as owner, not the signer %s", ErrMalformed, r.Owner(), owner.Public())
	}
	r.Signature = owner.Sign(domainRoster, r.signedBytes())
	return r, nil
}

// Next makes and signs the roster of the epoch after r, for the given whole
// member list in any order. The signer must be r's owner or one of its
// admins. The owner may change anything (the new list names exactly one
// owner, who may be someone else: a transfer of ownership); an admin may
// only add and remove members (see VerifyFollows).
func (r *Roster) Next(signer keys.PrivateKey, members []Member) (*Roster, error) {
	if err := r.validate(); err != nil {
		return nil, fmt.Errorf("previous roster: %w", err)
	}
	if signer.IsZero() {
		return nil, fmt.Errorf("%w: zero signing key", ErrMalformed)
	}
	if r.Epoch == math.MaxUint64 {
		return nil, fmt.Errorf("%w: no epoch after %d", ErrChainExhausted, r.Epoch)
	}
	next := &Roster{Group: r.Group, Epoch: r.Epoch + 1, PrevHash: r.Hash(), Signer: signer.Public(), Members: sortedMembers(members)}
	if err := next.validate(); err != nil {
		return nil, err
	}
	if err := next.signerMayFollow(r); err != nil {
		return nil, err
	}
	next.Signature = signer.Sign(domainRoster, next.signedBytes())
	return next, nil
}

// signerMayFollow checks that r's signer may sign the roster after prev and
// makes no change beyond its rights: the owner may change anything; an admin
// keeps the owner and every other admin as they were and makes no new
// admin, so it only adds and removes members (itself included: an admin may
// sign itself out).
func (r *Roster) signerMayFollow(prev *Roster) error {
	switch prev.Role(r.Signer) {
	case RoleOwner:
		return nil
	case RoleAdmin:
	default:
		return fmt.Errorf("%w: %s is neither owner nor admin of epoch %d and may not sign epoch %d", ErrBrokenChain, r.Signer, prev.Epoch, r.Epoch)
	}
	if r.Owner() != prev.Owner() {
		return fmt.Errorf("%w: admin %s changed the owner in epoch %d", ErrBrokenChain, r.Signer, r.Epoch)
	}
	for _, m := range prev.Members {
		if m.Role == RoleAdmin && m.Key != r.Signer && r.Role(m.Key) != RoleAdmin {
			return fmt.Errorf("%w: admin %s changed the role of admin %s in epoch %d", ErrBrokenChain, r.Signer, m.Key, r.Epoch)
		}
	}
	for _, m := range r.Members {
		if m.Role == RoleAdmin && prev.Role(m.Key) != RoleAdmin {
			return fmt.Errorf("%w: admin %s made %s an admin in epoch %d", ErrBrokenChain, r.Signer, m.Key, r.Epoch)
		}
	}
	return nil
}

func sortedMembers(members []Member) []Member {
	sorted := slices.Clone(members)
	slices.SortFunc(sorted, func(a, b Member) int { return bytes.Compare(a.Key[:], b.Key[:]) })
	return sorted
}

// validate checks the roster's form, not its signature: a group, a signer,
// 1 to MaxMembers members with nonzero keys and valid roles, in strictly
// ascending key order (so unique), exactly one owner.
func (r *Roster) validate() error {
	if r.Group.IsZero() {
		return fmt.Errorf("%w: roster with zero group ID", ErrMalformed)
	}
	if r.Signer.IsZero() {
		return fmt.Errorf("%w: roster with zero signer", ErrMalformed)
	}
	if len(r.Members) > MaxMembers {
		return fmt.Errorf("%w: roster of %d members, limit %d", ErrTooLarge, len(r.Members), MaxMembers)
	}
	owners := 0
	for i, m := range r.Members {
		if m.Key.IsZero() {
			return fmt.Errorf("%w: roster member %d has a zero key", ErrMalformed, i)
		}
		if !m.Role.valid() {
			return fmt.Errorf("%w: roster member %s has role %s", ErrMalformed, m.Key, m.Role)
		}
		if i > 0 {
			switch c := bytes.Compare(r.Members[i-1].Key[:], m.Key[:]); {
			case c == 0:
				return fmt.Errorf("%w: roster lists %s twice", ErrMalformed, m.Key)
			case c > 0:
				return fmt.Errorf("%w: roster members out of order at %s", ErrMalformed, m.Key)
			}
		}
		if m.Role == RoleOwner {
			owners++
		}
	}
	if owners != 1 {
		return fmt.Errorf("%w: roster has %d owners, want 1", ErrMalformed, owners)
	}
	return nil
}

// signedBytes is what the signer signs: every field but the signature.
func (r *Roster) signedBytes() []byte {
	var b canon.Builder
	b.Fixed(r.Group[:]).Uint64(r.Epoch).Fixed(r.PrevHash[:]).Fixed(r.Signer[:]).Uint64(uint64(len(r.Members)))
	for _, m := range r.Members {
		b.Fixed(m.Key[:]).Fixed([]byte{byte(m.Role)})
	}
	return b.Build()
}

// Hash returns SHA-256 over the roster's canonical bytes and its signature:
// the PrevHash the next epoch's roster must carry.
func (r *Roster) Hash() Hash {
	var b canon.Builder
	return sha256.Sum256(b.String(labelRosterHash).Bytes(r.signedBytes()).Bytes(r.Signature).Build())
}

// Beats reports whether r wins over other when both are valid rosters of
// the same epoch that follow the same roster (two admins signed at once):
// the roster with the lower Hash wins, so every node that sees both keeps
// the same one, whatever order they arrived in. The signer of the losing
// roster applies its change again on top of the winner.
func (r *Roster) Beats(other *Roster) bool {
	a, b := r.Hash(), other.Hash()
	return bytes.Compare(a[:], b[:]) < 0
}

// Owner returns the key of the roster's owner, or the zero key if the roster
// names none.
func (r *Roster) Owner() keys.PublicKey {
	for _, m := range r.Members {
		if m.Role == RoleOwner {
			return m.Key
		}
	}
	return keys.PublicKey{}
}

// Role returns pk's role in the roster, RoleNone if pk is not a member.
func (r *Roster) Role(pk keys.PublicKey) Role {
	for _, m := range r.Members {
		if m.Key == pk {
			return m.Role
		}
	}
	return RoleNone
}

// IsMember reports whether pk is in the roster, in any role.
func (r *Roster) IsMember(pk keys.PublicKey) bool { return r.Role(pk) != RoleNone }

func (r *Roster) verifySignature(signer keys.PublicKey) error {
	if !signer.Verify(domainRoster, r.signedBytes(), r.Signature) {
		return fmt.Errorf("%w: roster of group %s epoch %d is not signed by %s", ErrBadSignature, r.Group, r.Epoch, signer)
	}
	return nil
}

// VerifySignature checks that r is well formed and signed by its Signer. It
// says nothing about the signer's right to sign (VerifyFollows and
// VerifyGenesis do): use it for a roster whose signer is trusted for another
// reason, such as the roster in an invitation, signed by the inviter, from
// which the invitee follows the group.
func (r *Roster) VerifySignature() error {
	if err := r.validate(); err != nil {
		return err
	}
	return r.verifySignature(r.Signer)
}

// VerifyGenesis checks that r is a well-formed epoch-0 roster with a zero
// PrevHash, owned and signed by owner, the key that the invitation named.
func (r *Roster) VerifyGenesis(owner keys.PublicKey) error {
	if err := r.validate(); err != nil {
		return err
	}
	if r.Epoch != 0 || !r.PrevHash.IsZero() {
		return fmt.Errorf("%w: genesis roster has epoch %d and previous hash %s", ErrBrokenChain, r.Epoch, r.PrevHash)
	}
	if r.Owner() != owner || r.Signer != owner {
		return fmt.Errorf("%w: genesis roster names %s as owner and %s as signer, want %s", ErrBrokenChain, r.Owner(), r.Signer, owner)
	}
	return r.verifySignature(owner)
}

// VerifyFollows checks that r is a well-formed roster for the epoch after
// prev: the same group, epoch prev.Epoch+1, PrevHash equal to prev.Hash(),
// signed by its Signer, who is prev's owner or one of prev's admins. An
// admin may only add and remove members: the owner and prev's other admins
// keep their roles, and no one becomes an admin (ErrBrokenChain otherwise).
// prev itself must already have been verified.
func (r *Roster) VerifyFollows(prev *Roster) error {
	if err := prev.validate(); err != nil {
		return fmt.Errorf("previous roster: %w", err)
	}
	if err := r.validate(); err != nil {
		return err
	}
	switch {
	case r.Group != prev.Group:
		return fmt.Errorf("%w: roster of group %s follows one of group %s", ErrBrokenChain, r.Group, prev.Group)
	case prev.Epoch == math.MaxUint64 || r.Epoch != prev.Epoch+1:
		return fmt.Errorf("%w: roster of epoch %d follows epoch %d", ErrBrokenChain, r.Epoch, prev.Epoch)
	case r.PrevHash != prev.Hash():
		return fmt.Errorf("%w: roster of epoch %d names previous hash %s, not %s", ErrBrokenChain, r.Epoch, r.PrevHash, prev.Hash())
	}
	if err := r.verifySignature(r.Signer); err != nil {
		return err
	}
	return r.signerMayFollow(prev)
}

// VerifyChain checks a whole roster chain: rosters[0] is the genesis roster
// of genesisOwner and each one follows the one before it. The last roster is
// then the group's current membership.
func VerifyChain(genesisOwner keys.PublicKey, rosters []*Roster) error {
	if len(rosters) == 0 {
		return fmt.Errorf("%w: empty roster chain", ErrBrokenChain)
	}
	if err := rosters[0].VerifyGenesis(genesisOwner); err != nil {
		return err
	}
	for i := 1; i < len(rosters); i++ {
		if err := rosters[i].VerifyFollows(rosters[i-1]); err != nil {
			return err
		}
	}
	return nil
}

// CheckSender checks that an envelope belongs to this roster's group and
// epoch, that its sender is a member, and that the sender signed it. It is the
// topic validator's check; the roster must already have been verified.
func (r *Roster) CheckSender(e *Envelope) error {
	if e.Group != r.Group || e.Epoch != r.Epoch {
		return fmt.Errorf("%w: envelope for group %s epoch %d, roster of group %s epoch %d", ErrWrongChain, e.Group, e.Epoch, r.Group, r.Epoch)
	}
	if !r.IsMember(e.Sender) {
		return fmt.Errorf("%w: %s in group %s epoch %d", ErrNotMember, e.Sender, r.Group, r.Epoch)
	}
	return e.VerifySignature()
}
