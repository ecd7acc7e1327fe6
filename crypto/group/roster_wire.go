package group

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group/internal/grouppb"
	"github.com/backchannel/backchannel/crypto/keys"
)

const rosterVersion = 2

// maxRosterBytes bounds an encoded roster before it is parsed.
const maxRosterBytes = MaxMembers*48 + 300

// MarshalBinary encodes the roster for the wire and the store.
func (r *Roster) MarshalBinary() ([]byte, error) {
	if err := r.validate(); err != nil {
		return nil, err
	}
	if len(r.Signature) != keys.SignatureSize {
		return nil, fmt.Errorf("%w: roster signature is %d bytes, want %d", ErrMalformed, len(r.Signature), keys.SignatureSize)
	}
	m := &grouppb.Roster{
		Version:   rosterVersion,
		Group:     r.Group.Bytes(),
		Epoch:     r.Epoch,
		PrevHash:  append([]byte(nil), r.PrevHash[:]...),
		Signer:    r.Signer.Bytes(),
		Members:   make([]*grouppb.Member, len(r.Members)),
		Signature: r.Signature,
	}
	for i, mem := range r.Members {
		m.Members[i] = &grouppb.Member{Key: mem.Key.Bytes(), Role: uint32(mem.Role)}
	}
	return proto.Marshal(m)
}

// UnmarshalRoster decodes a roster and checks its form: version, sizes, zero
// keys, roles, member order, one owner. It does not check the signature or
// the chain: call VerifyGenesis, VerifyFollows or VerifyChain for that.
func UnmarshalRoster(b []byte) (*Roster, error) {
	if len(b) > maxRosterBytes {
		return nil, fmt.Errorf("%w: roster is %d bytes, limit %d", ErrTooLarge, len(b), maxRosterBytes)
	}
	var m grouppb.Roster
	if err := proto.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: roster: %w", ErrMalformed, err)
	}
	if m.Version != rosterVersion {
		return nil, fmt.Errorf("%w: roster version %d", ErrVersion, m.Version)
	}
	id, err := IDFromBytes(m.Group)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	if len(m.PrevHash) != len(Hash{}) {
		return nil, fmt.Errorf("%w: roster previous hash is %d bytes, want %d", ErrMalformed, len(m.PrevHash), len(Hash{}))
	}
	if len(m.Members) > MaxMembers {
		return nil, fmt.Errorf("%w: roster of %d members, limit %d", ErrTooLarge, len(m.Members), MaxMembers)
	}
	if len(m.Signature) != keys.SignatureSize {
		return nil, fmt.Errorf("%w: roster signature is %d bytes, want %d", ErrMalformed, len(m.Signature), keys.SignatureSize)
	}
	signer, err := keys.PublicKeyFromBytes(m.Signer)
	if err != nil {
		return nil, fmt.Errorf("%w: roster signer: %w", ErrMalformed, err)
	}
	r := &Roster{Group: id, Epoch: m.Epoch, Signer: signer, Members: make([]Member, len(m.Members)), Signature: m.Signature}
	copy(r.PrevHash[:], m.PrevHash)
	for i, mem := range m.Members {
		pk, err := keys.PublicKeyFromBytes(mem.Key)
		if err != nil {
			return nil, fmt.Errorf("%w: roster member %d: %w", ErrMalformed, i, err)
		}
		if mem.Role > uint32(RoleMember) {
			return nil, fmt.Errorf("%w: roster member %s has role %d", ErrMalformed, pk, mem.Role)
		}
		r.Members[i] = Member{Key: pk, Role: Role(mem.Role)}
	}
	if err := r.validate(); err != nil {
		return nil, err
	}
	return r, nil
}
