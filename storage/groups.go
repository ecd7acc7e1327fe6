package storage

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// GroupID identifies a private group: the raw bytes of a crypto/group.ID.
type GroupID [32]byte

// IsZero reports whether id is the zero ID, which no group has.
func (id GroupID) IsZero() bool { return id == GroupID{} }

// String returns id in lower-case hex.
func (id GroupID) String() string { return hex.EncodeToString(id[:]) }

// GroupState is where this node stands in a group.
type GroupState uint8

const (
	// GroupInvited: an invitation waits for the user's answer.
	GroupInvited GroupState = iota + 1
	// GroupJoined: a member, subscribed to the group's topic.
	GroupJoined
	// GroupLeft: the user left; the history stays, the secrets are gone.
	GroupLeft
	// GroupRemoved: an owner or admin removed this node.
	GroupRemoved
	// GroupDeclined: the user declined the invitation.
	GroupDeclined
)

// String returns the state's lower-case name.
func (s GroupState) String() string {
	switch s {
	case GroupInvited:
		return "invited"
	case GroupJoined:
		return "joined"
	case GroupLeft:
		return "left"
	case GroupRemoved:
		return "removed"
	case GroupDeclined:
		return "declined"
	}
	return fmt.Sprintf("GroupState(%d)", uint8(s))
}

func (s GroupState) valid() bool { return s >= GroupInvited && s <= GroupDeclined }

// Group is what the node keeps of a private group. Rosters, epoch keys,
// chains, envelopes and messages are records of their own.
type Group struct {
	ID     GroupID
	Secret []byte // 32 bytes; empty once the node left or was removed
	Name   string
	// NameSent and NameID name the message that set Name (last writer wins,
	// ties by ID); zero for the name given at creation or in the invite.
	NameSent      time.Time
	NameID        [32]byte
	State         GroupState
	Inviter       peer.ID   // empty for the group's creator
	InviteMessage MessageID // the invite in the inviter's 1:1 thread; zero if none
	BaseEpoch     uint64    // the first epoch this node is in
	Created       time.Time
	Updated       time.Time
	LastRead      time.Time // newest sent time marked read
}

// groupKey returns prefix followed by the group ID, with room for extra more
// bytes.
func groupKey(prefix string, id GroupID, extra int) []byte { return roomKey(prefix, RoomID(id), extra) }

// groupEpochKey returns prefix, the group ID and the big-endian epoch.
func groupEpochKey(prefix string, id GroupID, epoch uint64, extra int) []byte {
	return binary.BigEndian.AppendUint64(groupKey(prefix, id, 8+extra), epoch)
}

// groupEpochPeerKey returns prefix, the group ID, the epoch and the
// length-prefixed peer ID.
func groupEpochPeerKey(prefix string, id GroupID, epoch uint64, p peer.ID, extra int) ([]byte, error) {
	if len(p) == 0 || len(p) > maxPeerIDLen {
		return nil, fmt.Errorf("%w: peer ID of %d bytes", ErrInvalid, len(p))
	}
	k := groupEpochKey(prefix, id, epoch, 1+len(p)+extra)
	k = append(k, byte(len(p)))
	return append(k, p...), nil
}

// PutGroup inserts or replaces the group g.ID.
func (t *Txn) PutGroup(g Group) error {
	switch {
	case g.ID.IsZero():
		return fmt.Errorf("storage: put group: %w: zero group ID", ErrInvalid)
	case !g.State.valid():
		return fmt.Errorf("storage: put group %s: %w: state %d", g.ID, ErrInvalid, g.State)
	case len(g.Secret) != 0 && len(g.Secret) != 32:
		return fmt.Errorf("storage: put group %s: %w: secret of %d bytes", g.ID, ErrInvalid, len(g.Secret))
	}
	rec := &storepb.Group{
		Secret:           g.Secret,
		Name:             g.Name,
		NameSentUnixNano: toUnixNano(g.NameSent),
		State:            uint32(g.State),
		Inviter:          []byte(g.Inviter),
		BaseEpoch:        g.BaseEpoch,
		CreatedUnixNano:  toUnixNano(g.Created),
		UpdatedUnixNano:  toUnixNano(g.Updated),
		LastReadUnixNano: toUnixNano(g.LastRead),
	}
	if g.NameID != ([32]byte{}) {
		rec.NameId = g.NameID[:]
	}
	if !g.InviteMessage.IsZero() {
		rec.InviteMessage = g.InviteMessage[:]
	}
	if err := t.setProto(groupKey(prefixGroup, g.ID, 0), rec); err != nil {
		return fmt.Errorf("storage: put group %s: %w", g.ID, err)
	}
	return nil
}

// Group returns the group id, or ErrNotFound.
func (t *Txn) Group(id GroupID) (Group, error) {
	b, err := t.get(groupKey(prefixGroup, id, 0))
	if err != nil {
		return Group{}, fmt.Errorf("storage: group %s: %w", id, err)
	}
	g, err := decodeGroup(id, b)
	if err != nil {
		return Group{}, fmt.Errorf("storage: group %s: %w", id, err)
	}
	return g, nil
}

// decodeGroup builds a Group from its ID and record bytes.
func decodeGroup(id GroupID, b []byte) (Group, error) {
	var r storepb.Group
	if err := proto.Unmarshal(b, &r); err != nil {
		return Group{}, fmt.Errorf("%w: group: %w", ErrCorrupt, err)
	}
	g := Group{
		ID:        id,
		Secret:    r.GetSecret(),
		Name:      r.GetName(),
		NameSent:  unixNano(r.GetNameSentUnixNano()),
		State:     GroupState(r.GetState()),
		Inviter:   peer.ID(r.GetInviter()),
		BaseEpoch: r.GetBaseEpoch(),
		Created:   unixNano(r.GetCreatedUnixNano()),
		Updated:   unixNano(r.GetUpdatedUnixNano()),
		LastRead:  unixNano(r.GetLastReadUnixNano()),
	}
	switch {
	case r.GetState() > 255 || !g.State.valid():
		return Group{}, fmt.Errorf("%w: group state %d", ErrCorrupt, r.GetState())
	case len(g.Secret) != 0 && len(g.Secret) != 32:
		return Group{}, fmt.Errorf("%w: group secret of %d bytes", ErrCorrupt, len(g.Secret))
	case len(r.GetNameId()) != 0 && len(r.GetNameId()) != 32:
		return Group{}, fmt.Errorf("%w: group name ID of %d bytes", ErrCorrupt, len(r.GetNameId()))
	case len(r.GetInviteMessage()) != 0 && len(r.GetInviteMessage()) != len(MessageID{}):
		return Group{}, fmt.Errorf("%w: group invite ID of %d bytes", ErrCorrupt, len(r.GetInviteMessage()))
	case len(r.GetInviter()) > maxPeerIDLen:
		return Group{}, fmt.Errorf("%w: group inviter of %d bytes", ErrCorrupt, len(r.GetInviter()))
	case r.GetNameSentUnixNano() < 0 || r.GetCreatedUnixNano() < 0 || r.GetUpdatedUnixNano() < 0 || r.GetLastReadUnixNano() < 0:
		return Group{}, fmt.Errorf("%w: group time before 1970", ErrCorrupt)
	}
	copy(g.NameID[:], r.GetNameId())
	copy(g.InviteMessage[:], r.GetInviteMessage())
	if len(g.Secret) == 0 {
		g.Secret = nil
	}
	return g, nil
}

// Groups returns every group the store knows, in any state, ordered by Name
// then ID.
func (t *Txn) Groups() ([]Group, error) {
	var gs []Group
	err := t.each([]byte(prefixGroup), func(k, v []byte) error {
		rest := k[len(prefixGroup):]
		if len(rest) != len(GroupID{}) {
			return fmt.Errorf("%w: group key of %d bytes", ErrCorrupt, len(k))
		}
		g, err := decodeGroup(GroupID(rest), bytes.Clone(v))
		if err != nil {
			return fmt.Errorf("group %x: %w", rest, err)
		}
		gs = append(gs, g)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: groups: %w", err)
	}
	slices.SortFunc(gs, func(a, b Group) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), bytes.Compare(a.ID[:], b.ID[:]))
	})
	return gs, nil
}

// GroupByName returns the group whose Name is exactly name: ErrNotFound if
// none is, ErrAmbiguous if two or more are.
func (t *Txn) GroupByName(name string) (Group, error) {
	if name == "" {
		return Group{}, fmt.Errorf("storage: group by name: %w: empty name", ErrInvalid)
	}
	gs, err := t.Groups()
	if err != nil {
		return Group{}, err
	}
	var found []Group
	for _, g := range gs {
		if g.Name == name {
			found = append(found, g)
		}
	}
	switch len(found) {
	case 0:
		return Group{}, fmt.Errorf("storage: group %q: %w", name, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Group{}, fmt.Errorf("storage: group %q: %w: %d groups", name, ErrAmbiguous, len(found))
}

// groupSecretPrefixes hold a group's key material.
var groupSecretPrefixes = []string{prefixGroupKey, prefixGroupParked, prefixGroupSend, prefixGroupChain}

// DeleteGroupSecrets deletes a group's epoch keys, parked keys and chains,
// keeping its record, rosters and history: for a node that left or was
// removed, which must not read on.
func (t *Txn) DeleteGroupSecrets(id GroupID) error {
	for _, prefix := range groupSecretPrefixes {
		if err := t.deletePrefix(groupKey(prefix, id, 0)); err != nil {
			return fmt.Errorf("storage: delete group secrets %s: %w", id, err)
		}
	}
	return nil
}

// DeleteGroup deletes the group id and everything kept for it; deleting a
// missing group is not an error. Like DeleteRoom, it works in this
// transaction, so a group with a long history can fail with ErrTxnTooBig.
func (t *Txn) DeleteGroup(id GroupID) error {
	for _, prefix := range []string{prefixGroup, prefixGroupRoster, prefixGroupKey, prefixGroupParked, prefixGroupSend,
		prefixGroupChain, prefixGroupEnvelope, prefixGroupEnvIndex, prefixGroupHigh, prefixGroupMessage,
		prefixGroupMsgIndex, prefixGroupNote, prefixGroupReceipt, prefixGroupName} {
		if err := t.deletePrefix(groupKey(prefix, id, 0)); err != nil {
			return fmt.Errorf("storage: delete group %s: %w", id, err)
		}
	}
	return nil
}

// EpochRecord is an opaque per-epoch record (a roster, a key).
type EpochRecord struct {
	Epoch uint64
	Data  []byte
}

func (t *Txn) putEpochRecord(what, prefix string, id GroupID, epoch uint64, b []byte) error {
	if id.IsZero() || len(b) == 0 {
		return fmt.Errorf("storage: put group %s: %w: zero group or empty record", what, ErrInvalid)
	}
	return wrap("put group "+what, t.set(groupEpochKey(prefix, id, epoch, 0), b))
}

func (t *Txn) epochRecord(what, prefix string, id GroupID, epoch uint64) ([]byte, error) {
	b, err := t.get(groupEpochKey(prefix, id, epoch, 0))
	if err != nil {
		return nil, fmt.Errorf("storage: group %s %s epoch %d: %w", what, id, epoch, err)
	}
	return b, nil
}

// epochRecords returns a group's records under prefix, by ascending epoch.
func (t *Txn) epochRecords(what, prefix string, id GroupID) ([]EpochRecord, error) {
	p := groupKey(prefix, id, 0)
	var out []EpochRecord
	err := t.each(p, func(k, v []byte) error {
		rest := k[len(p):]
		if len(rest) != 8 {
			return fmt.Errorf("%w: %s key of %d bytes", ErrCorrupt, what, len(k))
		}
		out = append(out, EpochRecord{Epoch: binary.BigEndian.Uint64(rest), Data: bytes.Clone(v)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: group %ss %s: %w", what, id, err)
	}
	return out, nil
}

// deleteEpochRecordsFrom deletes a group's records under prefix of every
// epoch from epoch on.
func (t *Txn) deleteEpochRecordsFrom(prefix string, id GroupID, epoch uint64) error {
	ks, err := t.keys(groupKey(prefix, id, 0))
	if err != nil {
		return err
	}
	start := groupEpochKey(prefix, id, epoch, 0)
	for _, k := range ks {
		if bytes.Compare(k, start) >= 0 {
			if err := t.delete(k); err != nil {
				return err
			}
		}
	}
	return nil
}

// PutGroupRoster stores the encoded roster of a group's epoch.
func (t *Txn) PutGroupRoster(id GroupID, epoch uint64, b []byte) error {
	return t.putEpochRecord("roster", prefixGroupRoster, id, epoch, b)
}

// GroupRoster returns the encoded roster of a group's epoch, or ErrNotFound.
func (t *Txn) GroupRoster(id GroupID, epoch uint64) ([]byte, error) {
	return t.epochRecord("roster", prefixGroupRoster, id, epoch)
}

// GroupRosters returns a group's encoded rosters by ascending epoch.
func (t *Txn) GroupRosters(id GroupID) ([]EpochRecord, error) {
	return t.epochRecords("roster", prefixGroupRoster, id)
}

// DeleteGroupRostersFrom deletes the rosters, epoch keys and send chains of
// every epoch from epoch on: for a node that learns that a roster it held
// lost to a competing one, or that starts again from a new invitation.
func (t *Txn) DeleteGroupRostersFrom(id GroupID, epoch uint64) error {
	for _, prefix := range []string{prefixGroupRoster, prefixGroupKey, prefixGroupSend} {
		if err := t.deleteEpochRecordsFrom(prefix, id, epoch); err != nil {
			return fmt.Errorf("storage: delete group rosters %s from %d: %w", id, epoch, err)
		}
	}
	return nil
}

// PutGroupEpochKey stores an epoch's key (opaque bytes: a crypto/group
// GroupKey encoding).
func (t *Txn) PutGroupEpochKey(id GroupID, epoch uint64, b []byte) error {
	return t.putEpochRecord("key", prefixGroupKey, id, epoch, b)
}

// GroupEpochKey returns an epoch's key, or ErrNotFound.
func (t *Txn) GroupEpochKey(id GroupID, epoch uint64) ([]byte, error) {
	return t.epochRecord("key", prefixGroupKey, id, epoch)
}

// GroupEpochKeys returns the group's epoch keys by ascending epoch.
func (t *Txn) GroupEpochKeys(id GroupID) ([]EpochRecord, error) {
	return t.epochRecords("key", prefixGroupKey, id)
}

// PutGroupSendChain stores this node's send chain of an epoch.
func (t *Txn) PutGroupSendChain(id GroupID, epoch uint64, b []byte) error {
	return t.putEpochRecord("send chain", prefixGroupSend, id, epoch, b)
}

// GroupSendChain returns this node's send chain of an epoch, or ErrNotFound.
func (t *Txn) GroupSendChain(id GroupID, epoch uint64) ([]byte, error) {
	return t.epochRecord("send chain", prefixGroupSend, id, epoch)
}

// PutGroupReceiveChain stores the receive chain of sender in an epoch.
func (t *Txn) PutGroupReceiveChain(id GroupID, epoch uint64, sender peer.ID, b []byte) error {
	k, err := groupEpochPeerKey(prefixGroupChain, id, epoch, sender, 0)
	if err != nil || len(b) == 0 {
		return fmt.Errorf("storage: put group receive chain: %w: %w", ErrInvalid, err)
	}
	return wrap("put group receive chain", t.set(k, b))
}

// GroupReceiveChain returns the receive chain of sender in an epoch, or
// ErrNotFound.
func (t *Txn) GroupReceiveChain(id GroupID, epoch uint64, sender peer.ID) ([]byte, error) {
	k, err := groupEpochPeerKey(prefixGroupChain, id, epoch, sender, 0)
	if err != nil {
		return nil, fmt.Errorf("storage: group receive chain: %w", err)
	}
	b, err := t.get(k)
	if err != nil {
		return nil, fmt.Errorf("storage: group receive chain %s epoch %d: %w", id, epoch, err)
	}
	return b, nil
}

// ParkedGroupKey is an epoch key that arrived before the rosters that link
// its roster to the ones the node holds (an epoch missed, or a fork not
// resolved yet). It waits for them; one per epoch and sender.
type ParkedGroupKey struct {
	Epoch  uint64
	From   peer.ID
	Key    []byte // crypto/group GroupKey encoding
	Roster []byte // crypto/group Roster encoding
}

// PutParkedGroupKey stores a parked key, replacing any for its epoch and
// sender.
func (t *Txn) PutParkedGroupKey(id GroupID, k ParkedGroupKey) error {
	if id.IsZero() || len(k.Key) == 0 || len(k.Roster) == 0 {
		return fmt.Errorf("storage: put parked group key: %w", ErrInvalid)
	}
	key, err := groupEpochPeerKey(prefixGroupParked, id, k.Epoch, k.From, 0)
	if err != nil {
		return fmt.Errorf("storage: put parked group key: %w", err)
	}
	rec := &storepb.ParkedGroupKey{From: []byte(k.From), Key: k.Key, Roster: k.Roster}
	return wrap("put parked group key", t.setProto(key, rec))
}

// ParkedGroupKeys returns a group's parked keys by ascending epoch, then
// sender.
func (t *Txn) ParkedGroupKeys(id GroupID) ([]ParkedGroupKey, error) {
	prefix := groupKey(prefixGroupParked, id, 0)
	var out []ParkedGroupKey
	err := t.each(prefix, func(k, v []byte) error {
		rest := k[len(prefix):]
		if len(rest) < 8+2 || int(rest[8]) != len(rest)-9 {
			return fmt.Errorf("%w: parked key of %d bytes", ErrCorrupt, len(k))
		}
		pk, err := decodeParkedGroupKey(binary.BigEndian.Uint64(rest), bytes.Clone(v))
		if err != nil {
			return err
		}
		if pk.From != peer.ID(rest[9:]) {
			return fmt.Errorf("%w: parked key from %s under %s", ErrCorrupt, pk.From, peer.ID(rest[9:]))
		}
		out = append(out, pk)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: parked group keys %s: %w", id, err)
	}
	return out, nil
}

func decodeParkedGroupKey(epoch uint64, b []byte) (ParkedGroupKey, error) {
	var r storepb.ParkedGroupKey
	if err := proto.Unmarshal(b, &r); err != nil {
		return ParkedGroupKey{}, fmt.Errorf("%w: parked group key: %w", ErrCorrupt, err)
	}
	if len(r.GetFrom()) == 0 || len(r.GetFrom()) > maxPeerIDLen || len(r.GetKey()) == 0 || len(r.GetRoster()) == 0 {
		return ParkedGroupKey{}, fmt.Errorf("%w: parked group key without sender, key or roster", ErrCorrupt)
	}
	return ParkedGroupKey{Epoch: epoch, From: peer.ID(r.GetFrom()), Key: r.GetKey(), Roster: r.GetRoster()}, nil
}

// DeleteParkedGroupKey deletes the parked key of an epoch from a sender, if
// any.
func (t *Txn) DeleteParkedGroupKey(id GroupID, epoch uint64, from peer.ID) error {
	key, err := groupEpochPeerKey(prefixGroupParked, id, epoch, from, 0)
	if err != nil {
		return fmt.Errorf("storage: delete parked group key: %w", err)
	}
	return wrap("delete parked group key", t.delete(key))
}

// GroupMark is a high-water mark: every seq of Sender in Epoch below Next.
type GroupMark struct {
	Epoch  uint64
	Sender peer.ID
	Next   uint64
}

// GroupReceipt is how far a member has received and read a group.
type GroupReceipt struct {
	Member    peer.ID
	Delivered []GroupMark
	Read      []GroupMark
	Updated   time.Time
}

func marksToRecord(ms []GroupMark) []*storepb.GroupMark {
	out := make([]*storepb.GroupMark, len(ms))
	for i, m := range ms {
		out[i] = &storepb.GroupMark{Epoch: m.Epoch, Sender: []byte(m.Sender), Next: m.Next}
	}
	return out
}

func marksFromRecord(rs []*storepb.GroupMark) ([]GroupMark, error) {
	out := make([]GroupMark, len(rs))
	for i, r := range rs {
		if len(r.GetSender()) == 0 || len(r.GetSender()) > maxPeerIDLen {
			return nil, fmt.Errorf("%w: mark with a sender of %d bytes", ErrCorrupt, len(r.GetSender()))
		}
		out[i] = GroupMark{Epoch: r.GetEpoch(), Sender: peer.ID(r.GetSender()), Next: r.GetNext()}
	}
	return out, nil
}

// PutGroupReceipt stores member r.Member's receipt, replacing the last one.
func (t *Txn) PutGroupReceipt(id GroupID, r GroupReceipt) error {
	k, err := roomPeerKey(prefixGroupReceipt, RoomID(id), r.Member, 0)
	if err != nil {
		return fmt.Errorf("storage: put group receipt: %w", err)
	}
	for _, m := range append(slices.Clone(r.Delivered), r.Read...) {
		if len(m.Sender) == 0 || len(m.Sender) > maxPeerIDLen {
			return fmt.Errorf("storage: put group receipt: %w: mark without sender", ErrInvalid)
		}
	}
	rec := &storepb.GroupReceipt{Delivered: marksToRecord(r.Delivered), Read: marksToRecord(r.Read), UpdatedUnixNano: toUnixNano(r.Updated)}
	return wrap("put group receipt", t.setProto(k, rec))
}

// GroupReceipt returns member's receipt, or ErrNotFound.
func (t *Txn) GroupReceipt(id GroupID, member peer.ID) (GroupReceipt, error) {
	k, err := roomPeerKey(prefixGroupReceipt, RoomID(id), member, 0)
	if err != nil {
		return GroupReceipt{}, fmt.Errorf("storage: group receipt: %w", err)
	}
	b, err := t.get(k)
	if err != nil {
		return GroupReceipt{}, fmt.Errorf("storage: group receipt: %w", err)
	}
	r, err := decodeGroupReceipt(member, b)
	if err != nil {
		return GroupReceipt{}, fmt.Errorf("storage: group receipt: %w", err)
	}
	return r, nil
}

func decodeGroupReceipt(member peer.ID, b []byte) (GroupReceipt, error) {
	var rec storepb.GroupReceipt
	if err := proto.Unmarshal(b, &rec); err != nil {
		return GroupReceipt{}, fmt.Errorf("%w: group receipt: %w", ErrCorrupt, err)
	}
	d, err := marksFromRecord(rec.GetDelivered())
	if err != nil {
		return GroupReceipt{}, err
	}
	r, err := marksFromRecord(rec.GetRead())
	if err != nil {
		return GroupReceipt{}, err
	}
	if rec.GetUpdatedUnixNano() < 0 {
		return GroupReceipt{}, fmt.Errorf("%w: group receipt time", ErrCorrupt)
	}
	return GroupReceipt{Member: member, Delivered: d, Read: r, Updated: unixNano(rec.GetUpdatedUnixNano())}, nil
}

// GroupReceipts returns every member's receipt in the group.
func (t *Txn) GroupReceipts(id GroupID) ([]GroupReceipt, error) {
	prefix := groupKey(prefixGroupReceipt, id, 0)
	var out []GroupReceipt
	err := t.each(prefix, func(k, v []byte) error {
		rest := k[len(prefix):]
		if len(rest) < 2 || int(rest[0]) != len(rest)-1 {
			return fmt.Errorf("%w: group receipt key of %d bytes", ErrCorrupt, len(k))
		}
		r, err := decodeGroupReceipt(peer.ID(bytes.Clone(rest[1:])), bytes.Clone(v))
		if err != nil {
			return err
		}
		out = append(out, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: group receipts %s: %w", id, err)
	}
	return out, nil
}

// GroupMemberName is the profile name a member announced in a group, and
// the message that announced it: the latest by sent time, then ID, counts.
type GroupMemberName struct {
	Member peer.ID
	Name   string
	Sent   time.Time
	ID     [32]byte // the group message that announced it
	Epoch  uint64   // the epoch it was announced in
}

// PutGroupMemberName stores n.Member's name in the group, replacing the one
// before.
func (t *Txn) PutGroupMemberName(id GroupID, n GroupMemberName) error {
	k, err := roomPeerKey(prefixGroupName, RoomID(id), n.Member, 0)
	if err != nil {
		return fmt.Errorf("storage: put group member name: %w", err)
	}
	if id.IsZero() || n.Name == "" {
		return fmt.Errorf("storage: put group member name: %w: zero group or empty name", ErrInvalid)
	}
	rec := &storepb.GroupMemberName{Name: n.Name, SentUnixNano: toUnixNano(n.Sent), Id: n.ID[:], Epoch: n.Epoch}
	return wrap("put group member name", t.setProto(k, rec))
}

// GroupMemberName returns the name member announced in the group, or
// ErrNotFound.
func (t *Txn) GroupMemberName(id GroupID, member peer.ID) (GroupMemberName, error) {
	k, err := roomPeerKey(prefixGroupName, RoomID(id), member, 0)
	if err != nil {
		return GroupMemberName{}, fmt.Errorf("storage: group member name: %w", err)
	}
	b, err := t.get(k)
	if err != nil {
		return GroupMemberName{}, fmt.Errorf("storage: group member name: %w", err)
	}
	n, err := decodeGroupMemberName(member, b)
	if err != nil {
		return GroupMemberName{}, fmt.Errorf("storage: group member name: %w", err)
	}
	return n, nil
}

func decodeGroupMemberName(member peer.ID, b []byte) (GroupMemberName, error) {
	var rec storepb.GroupMemberName
	if err := proto.Unmarshal(b, &rec); err != nil {
		return GroupMemberName{}, fmt.Errorf("%w: group member name: %w", ErrCorrupt, err)
	}
	switch {
	case rec.GetName() == "":
		return GroupMemberName{}, fmt.Errorf("%w: group member name empty", ErrCorrupt)
	case len(rec.GetId()) != 32:
		return GroupMemberName{}, fmt.Errorf("%w: group member name ID of %d bytes", ErrCorrupt, len(rec.GetId()))
	case rec.GetSentUnixNano() < 0:
		return GroupMemberName{}, fmt.Errorf("%w: group member name time before 1970", ErrCorrupt)
	}
	return GroupMemberName{Member: member, Name: rec.GetName(), Sent: unixNano(rec.GetSentUnixNano()), ID: [32]byte(rec.GetId()), Epoch: rec.GetEpoch()}, nil
}

// GroupMemberNames returns the names the group's members announced, by
// member.
func (t *Txn) GroupMemberNames(id GroupID) ([]GroupMemberName, error) {
	prefix := groupKey(prefixGroupName, id, 0)
	var out []GroupMemberName
	err := t.each(prefix, func(k, v []byte) error {
		rest := k[len(prefix):]
		if len(rest) < 2 || int(rest[0]) != len(rest)-1 {
			return fmt.Errorf("%w: group member name key of %d bytes", ErrCorrupt, len(k))
		}
		n, err := decodeGroupMemberName(peer.ID(bytes.Clone(rest[1:])), bytes.Clone(v))
		if err != nil {
			return err
		}
		out = append(out, n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: group member names %s: %w", id, err)
	}
	return out, nil
}

// DeleteGroupMemberName deletes the name member announced in the group, if
// any.
func (t *Txn) DeleteGroupMemberName(id GroupID, member peer.ID) error {
	k, err := roomPeerKey(prefixGroupName, RoomID(id), member, 0)
	if err != nil {
		return fmt.Errorf("storage: delete group member name: %w", err)
	}
	return wrap("delete group member name", t.delete(k))
}

// isNotFound reports whether err is ErrNotFound.
func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }
