package room

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room/internal/roompb"
)

// version is the wire version of every encoding in this package.
const version = 1

// Each encoder checks its value as the decoder will, so that what one node
// encodes every node decodes. Decoders check, in order: the size of the data,
// the protobuf, the version, the sizes of keys, IDs and signatures, then the
// fields. They do not verify signatures: call Verify.

// MarshalBinary encodes a signed descriptor. It fails on a descriptor that
// is not well formed or not signed, which no decoder would accept.
func (d Descriptor) MarshalBinary() ([]byte, error) {
	if err := d.check(); err != nil {
		return nil, err
	}
	if err := checkSigned(d.Signature); err != nil {
		return nil, err
	}
	return proto.Marshal(&roompb.Descriptor{
		Version:       version,
		Room:          d.Room[:],
		Host:          d.Host[:],
		Nonce:         d.Nonce[:],
		Name:          d.Name,
		Description:   d.Description,
		StartUnixMs:   unixMilli(d.Start),
		CreatedUnixMs: unixMilli(d.Created),
		Signature:     d.Signature[:],
	})
}

// UnmarshalDescriptor decodes a descriptor made by MarshalBinary. It does not
// verify it: call Verify.
func UnmarshalDescriptor(data []byte) (Descriptor, error) {
	if len(data) > MaxDescriptorSize {
		return Descriptor{}, fmt.Errorf("%w: descriptor is %d bytes, max %d", ErrTooLarge, len(data), MaxDescriptorSize)
	}
	var pb roompb.Descriptor
	if err := proto.Unmarshal(data, &pb); err != nil {
		return Descriptor{}, fmt.Errorf("%w: descriptor: %w", ErrMalformed, err)
	}
	if pb.Version != version {
		return Descriptor{}, fmt.Errorf("%w: descriptor version %d", ErrVersion, pb.Version)
	}
	var d Descriptor
	var err error
	if d.Room, err = idFromWire(pb.Room); err != nil {
		return Descriptor{}, err
	}
	if d.Host, err = keyFromWire("host", pb.Host); err != nil {
		return Descriptor{}, err
	}
	if len(pb.Nonce) != NonceSize {
		return Descriptor{}, fmt.Errorf("%w: nonce is %d bytes, want %d", ErrMalformed, len(pb.Nonce), NonceSize)
	}
	copy(d.Nonce[:], pb.Nonce)
	if d.Signature, err = signatureFromWire(pb.Signature); err != nil {
		return Descriptor{}, err
	}
	d.Name = pb.Name
	d.Description = pb.Description
	d.Start = fromUnixMilli(pb.StartUnixMs)
	d.Created = fromUnixMilli(pb.CreatedUnixMs)
	if err := d.check(); err != nil {
		return Descriptor{}, err
	}
	return d, nil
}

// MarshalBinary encodes a signed message. It fails on a message that is not
// well formed or not signed, which no decoder would accept.
func (m Message) MarshalBinary() ([]byte, error) {
	if err := m.check(); err != nil {
		return nil, err
	}
	if err := checkSigned(m.Signature); err != nil {
		return nil, err
	}
	return proto.Marshal(&roompb.Message{
		Version:         version,
		Room:            m.Room[:],
		Kind:            roompb.Kind(m.Kind),
		Sender:          m.Sender[:],
		Seq:             m.Seq,
		TimestampUnixMs: unixMilli(m.Timestamp),
		Body:            m.Body,
		Signature:       m.Signature[:],
	})
}

// UnmarshalMessage decodes a message made by MarshalBinary. It does not
// verify it: call Verify with the room it arrived in.
func UnmarshalMessage(data []byte) (Message, error) {
	if len(data) > MaxMessageSize {
		return Message{}, fmt.Errorf("%w: message is %d bytes, max %d", ErrTooLarge, len(data), MaxMessageSize)
	}
	var pb roompb.Message
	if err := proto.Unmarshal(data, &pb); err != nil {
		return Message{}, fmt.Errorf("%w: message: %w", ErrMalformed, err)
	}
	if pb.Version != version {
		return Message{}, fmt.Errorf("%w: message version %d", ErrVersion, pb.Version)
	}
	var m Message
	var err error
	if m.Room, err = idFromWire(pb.Room); err != nil {
		return Message{}, err
	}
	kind, ok := kindFromWire(int32(pb.Kind))
	if !ok {
		return Message{}, fmt.Errorf("%w: %d", ErrUnknownKind, pb.Kind)
	}
	m.Kind = kind
	if m.Sender, err = keyFromWire("sender", pb.Sender); err != nil {
		return Message{}, err
	}
	if m.Signature, err = signatureFromWire(pb.Signature); err != nil {
		return Message{}, err
	}
	m.Seq = pb.Seq
	m.Timestamp = fromUnixMilli(pb.TimestampUnixMs)
	if len(pb.Body) > 0 {
		m.Body = pb.Body
	}
	if err := m.check(); err != nil {
		return Message{}, err
	}
	return m, nil
}

// MarshalBinary encodes a signed role grant, to carry in a KindRoleGrant
// message's body or to present later. It fails on a grant that is not well
// formed or not signed, which no decoder would accept.
func (g RoleGrant) MarshalBinary() ([]byte, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	if err := checkSigned(g.Signature); err != nil {
		return nil, err
	}
	return proto.Marshal(&roompb.RoleGrant{
		Version:         version,
		Room:            g.Room[:],
		Grantee:         g.Grantee[:],
		Role:            roompb.Role(g.Role),
		IssuedAtUnixMs:  unixMilli(g.IssuedAt),
		ExpiresAtUnixMs: unixMilli(g.ExpiresAt),
		Signature:       g.Signature[:],
	})
}

// UnmarshalRoleGrant decodes a role grant made by MarshalBinary. It does not
// verify it: call Verify with the room's host, the room and the time.
func UnmarshalRoleGrant(data []byte) (RoleGrant, error) {
	if len(data) > MaxGrantSize {
		return RoleGrant{}, fmt.Errorf("%w: role grant is %d bytes, max %d", ErrTooLarge, len(data), MaxGrantSize)
	}
	var pb roompb.RoleGrant
	if err := proto.Unmarshal(data, &pb); err != nil {
		return RoleGrant{}, fmt.Errorf("%w: role grant: %w", ErrMalformed, err)
	}
	if pb.Version != version {
		return RoleGrant{}, fmt.Errorf("%w: role grant version %d", ErrVersion, pb.Version)
	}
	var g RoleGrant
	var err error
	if g.Room, err = idFromWire(pb.Room); err != nil {
		return RoleGrant{}, err
	}
	if g.Grantee, err = keyFromWire("grantee", pb.Grantee); err != nil {
		return RoleGrant{}, err
	}
	role, ok := roleFromWire(int32(pb.Role))
	if !ok {
		return RoleGrant{}, fmt.Errorf("%w: %d", ErrUnknownRole, pb.Role)
	}
	g.Role = role
	if g.Signature, err = signatureFromWire(pb.Signature); err != nil {
		return RoleGrant{}, err
	}
	g.IssuedAt = fromUnixMilli(pb.IssuedAtUnixMs)
	g.ExpiresAt = fromUnixMilli(pb.ExpiresAtUnixMs)
	if err := g.check(); err != nil {
		return RoleGrant{}, err
	}
	return g, nil
}

// MarshalBinary encodes a signed ballot, to hand to a room's host. It
// fails on a ballot that is not well formed or not signed, which no decoder
// would accept.
func (b Ballot) MarshalBinary() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	if err := checkSigned(b.Signature); err != nil {
		return nil, err
	}
	return proto.Marshal(&roompb.Ballot{
		Version:    version,
		Room:       b.Room[:],
		Target:     b.Target[:],
		Emoji:      b.Emoji,
		Voter:      b.Voter[:],
		TimeUnixMs: unixMilli(b.Time),
		Signature:  b.Signature[:],
	})
}

// UnmarshalBallot decodes a ballot made by MarshalBinary. It does not
// verify it: call Verify with the room it is handed for.
func UnmarshalBallot(data []byte) (Ballot, error) {
	if len(data) > MaxBallotSize {
		return Ballot{}, fmt.Errorf("%w: ballot is %d bytes, max %d", ErrTooLarge, len(data), MaxBallotSize)
	}
	var pb roompb.Ballot
	if err := proto.Unmarshal(data, &pb); err != nil {
		return Ballot{}, fmt.Errorf("%w: ballot: %w", ErrMalformed, err)
	}
	if pb.Version != version {
		return Ballot{}, fmt.Errorf("%w: ballot version %d", ErrVersion, pb.Version)
	}
	var b Ballot
	var err error
	if b.Room, err = idFromWire(pb.Room); err != nil {
		return Ballot{}, err
	}
	if len(pb.Target) != len(b.Target) {
		return Ballot{}, fmt.Errorf("%w: ballot target is %d bytes, want %d", ErrMalformed, len(pb.Target), len(b.Target))
	}
	copy(b.Target[:], pb.Target)
	if b.Voter, err = keyFromWire("voter", pb.Voter); err != nil {
		return Ballot{}, err
	}
	if b.Signature, err = signatureFromWire(pb.Signature); err != nil {
		return Ballot{}, err
	}
	b.Emoji = pb.Emoji
	b.Time = fromUnixMilli(pb.TimeUnixMs)
	if err := b.check(); err != nil {
		return Ballot{}, err
	}
	return b, nil
}

func idFromWire(b []byte) (ID, error) {
	id, err := IDFromBytes(b)
	if err != nil {
		return ID{}, fmt.Errorf("%w: room: %w", ErrMalformed, err)
	}
	return id, nil
}

func keyFromWire(what string, b []byte) (keys.PublicKey, error) {
	k, err := keys.PublicKeyFromBytes(b)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("%w: %s: %w", ErrMalformed, what, err)
	}
	return k, nil
}

func signatureFromWire(b []byte) ([keys.SignatureSize]byte, error) {
	var sig [keys.SignatureSize]byte
	if len(b) != keys.SignatureSize {
		return sig, fmt.Errorf("%w: signature is %d bytes, want %d", ErrMalformed, len(b), keys.SignatureSize)
	}
	copy(sig[:], b)
	return sig, checkSigned(sig)
}

// checkSigned rejects the all-zero signature of a value never signed.
func checkSigned(sig [keys.SignatureSize]byte) error {
	if sig == [keys.SignatureSize]byte{} {
		return fmt.Errorf("%w: not signed", ErrBadSignature)
	}
	return nil
}
