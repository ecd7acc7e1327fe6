package storage

import (
	"bytes"
	"cmp"
	"encoding/hex"
	"fmt"
	"slices"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// RoomID identifies a live room: the raw bytes of a crypto/room.ID (this
// package does not import crypto).
type RoomID [32]byte

// IsZero reports whether id is the zero ID, which no room has.
func (id RoomID) IsZero() bool { return id == RoomID{} }

// String returns id in lower-case hex.
func (id RoomID) String() string { return hex.EncodeToString(id[:]) }

// Room is what the node keeps of a live room it knows: the host-signed
// descriptor and whether it has joined. Its messages are [RoomMessage]s.
type Room struct {
	ID         RoomID
	Descriptor []byte // the encoded, host-signed descriptor; required
	Name       string // the descriptor's name, kept beside it for listing and lookup
	Joined     bool
	JoinedAt   time.Time // zero if never joined
	Updated    time.Time
	// HasOwnName says that OwnName, not the profile name, is the name this
	// node gives itself in the room; an empty OwnName then means no name.
	HasOwnName bool
	OwnName    string
}

// PutRoom inserts or replaces the room r.ID. It leaves the room's messages
// alone.
func (t *Txn) PutRoom(r Room) error {
	if r.ID.IsZero() {
		return fmt.Errorf("storage: put room: %w: zero room ID", ErrInvalid)
	}
	if len(r.Descriptor) == 0 {
		return fmt.Errorf("storage: put room %s: %w: empty descriptor", r.ID, ErrInvalid)
	}
	rec := &storepb.Room{
		SignedDescriptor: r.Descriptor,
		Name:             r.Name,
		Joined:           r.Joined,
		JoinedAtUnixNano: toUnixNano(r.JoinedAt),
		UpdatedUnixNano:  toUnixNano(r.Updated),
		OwnNameSet:       r.HasOwnName,
		OwnName:          r.OwnName,
	}
	if err := t.setProto(roomKey(prefixRoom, r.ID, 0), rec); err != nil {
		return fmt.Errorf("storage: put room %s: %w", r.ID, err)
	}
	return nil
}

// Room returns the room id, or ErrNotFound.
func (t *Txn) Room(id RoomID) (Room, error) {
	b, err := t.get(roomKey(prefixRoom, id, 0))
	if err != nil {
		return Room{}, fmt.Errorf("storage: room %s: %w", id, err)
	}
	r, err := decodeRoom(id, b)
	if err != nil {
		return Room{}, fmt.Errorf("storage: room %s: %w", id, err)
	}
	return r, nil
}

// decodeRoom builds a Room from its ID and record bytes.
func decodeRoom(id RoomID, b []byte) (Room, error) {
	var r storepb.Room
	if err := proto.Unmarshal(b, &r); err != nil {
		return Room{}, fmt.Errorf("%w: room: %w", ErrCorrupt, err)
	}
	if len(r.GetSignedDescriptor()) == 0 {
		return Room{}, fmt.Errorf("%w: room without a descriptor", ErrCorrupt)
	}
	return Room{
		ID:         id,
		Descriptor: r.GetSignedDescriptor(),
		Name:       r.GetName(),
		Joined:     r.GetJoined(),
		JoinedAt:   unixNano(r.GetJoinedAtUnixNano()),
		Updated:    unixNano(r.GetUpdatedUnixNano()),
		HasOwnName: r.GetOwnNameSet(),
		OwnName:    r.GetOwnName(),
	}, nil
}

// Rooms returns every room the store knows, joined or not, ordered by Name
// then ID.
func (t *Txn) Rooms() ([]Room, error) {
	var rs []Room
	err := t.each([]byte(prefixRoom), func(k, v []byte) error {
		rest := k[len(prefixRoom):]
		if len(rest) != len(RoomID{}) {
			return fmt.Errorf("%w: room key of %d bytes", ErrCorrupt, len(k))
		}
		// v is valid only during the call: decode a copy.
		r, err := decodeRoom(RoomID(rest), bytes.Clone(v))
		if err != nil {
			return fmt.Errorf("room %x: %w", rest, err)
		}
		rs = append(rs, r)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: rooms: %w", err)
	}
	slices.SortFunc(rs, func(a, b Room) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), bytes.Compare(a.ID[:], b.ID[:]))
	})
	return rs, nil
}

// RoomByName returns the room whose Name is exactly name: ErrNotFound if
// none is, ErrAmbiguous if two or more are (names are the hosts' choice, not
// unique).
func (t *Txn) RoomByName(name string) (Room, error) {
	if name == "" {
		return Room{}, fmt.Errorf("storage: room by name: %w: empty name", ErrInvalid)
	}
	rs, err := t.Rooms()
	if err != nil {
		return Room{}, err
	}
	var found []Room
	for _, r := range rs {
		if r.Name == name {
			found = append(found, r)
		}
	}
	switch len(found) {
	case 0:
		return Room{}, fmt.Errorf("storage: room %q: %w", name, ErrNotFound)
	case 1:
		return found[0], nil
	}
	return Room{}, fmt.Errorf("storage: room %q: %w: %d rooms", name, ErrAmbiguous, len(found))
}

// DeleteRoom deletes the room id with its messages, their indexes, the
// high-water marks and the ballots; deleting a missing room is not an
// error. It does all of it in this transaction, so a room of more than
// some 8,000 messages or 4,000 ballots fails with ErrTxnTooBig: use
// [Store.DeleteRoom].
func (t *Txn) DeleteRoom(id RoomID) error {
	if err := t.delete(roomKey(prefixRoom, id, 0)); err != nil {
		return fmt.Errorf("storage: delete room %s: %w", id, err)
	}
	for _, prefix := range []string{prefixRoomMessage, prefixRoomTime, prefixRoomIndex, prefixRoomHigh,
		prefixRoomBallot, prefixRoomBallotTime, prefixRoomBallotCount} {
		if err := t.deletePrefix(roomKey(prefix, id, 0)); err != nil {
			return fmt.Errorf("storage: delete room %s: %w", id, err)
		}
	}
	return nil
}
