package group

import (
	"crypto/hmac"
	"crypto/rand"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group/internal/grouppb"
)

// EpochKeySize is the size of an epoch key.
const EpochKeySize = 32

const groupKeyVersion = 1

// maxGroupKeyBytes bounds an encoded GroupKey before it is parsed.
const maxGroupKeyBytes = 128

// EpochKey is the random secret of one epoch of a group, from which every
// sender's chain is derived. Its zero value is invalid (see IsZero); it never
// prints.
type EpochKey struct {
	k [EpochKeySize]byte
}

// NewEpochKey makes a new random epoch key.
func NewEpochKey() EpochKey {
	var k EpochKey
	rand.Read(k.k[:]) // never fails
	return k
}

// IsZero reports whether k is the zero value.
func (k EpochKey) IsZero() bool { return k == EpochKey{} }

// Equal reports whether two epoch keys are the same, in constant time.
func (k EpochKey) Equal(other EpochKey) bool { return hmac.Equal(k.k[:], other.k[:]) }

// String never prints the key.
func (k EpochKey) String() string {
	if k.IsZero() {
		return "group.EpochKey(zero)"
	}
	return "group.EpochKey(redacted)"
}

// GoString is like String, so that %#v does not print the key either.
func (k EpochKey) GoString() string { return k.String() }

// GroupKey is an epoch key with the group and epoch it belongs to. The owner
// sends it to each member of the epoch's roster inside their end-to-end 1:1
// session (the "group key" content kind); the store persists it in the same
// encoding.
type GroupKey struct {
	Group ID
	Epoch uint64
	Key   EpochKey
}

// String names the group and epoch; it never prints the key.
func (gk GroupKey) String() string {
	return fmt.Sprintf("group.GroupKey(%s, epoch %d, %s)", gk.Group, gk.Epoch, gk.Key)
}

// GoString is like String, so that %#v does not print the key either.
func (gk GroupKey) GoString() string { return gk.String() }

func (gk GroupKey) validate() error {
	if gk.Group.IsZero() {
		return fmt.Errorf("%w: group key with zero group ID", ErrMalformed)
	}
	if gk.Key.IsZero() {
		return fmt.Errorf("%w: zero epoch key for group %s epoch %d", ErrMalformed, gk.Group, gk.Epoch)
	}
	return nil
}

// MarshalBinary encodes the group key. The result holds the secret key:
// send it only inside an end-to-end session.
func (gk GroupKey) MarshalBinary() ([]byte, error) {
	if err := gk.validate(); err != nil {
		return nil, err
	}
	return proto.Marshal(&grouppb.GroupKey{
		Version: groupKeyVersion,
		Group:   gk.Group.Bytes(),
		Epoch:   gk.Epoch,
		Key:     append([]byte(nil), gk.Key.k[:]...),
	})
}

// UnmarshalGroupKey decodes a group key encoded by GroupKey.MarshalBinary.
func UnmarshalGroupKey(b []byte) (GroupKey, error) {
	if len(b) > maxGroupKeyBytes {
		return GroupKey{}, fmt.Errorf("%w: group key is %d bytes, limit %d", ErrTooLarge, len(b), maxGroupKeyBytes)
	}
	var m grouppb.GroupKey
	if err := proto.Unmarshal(b, &m); err != nil {
		return GroupKey{}, fmt.Errorf("%w: group key: %w", ErrMalformed, err)
	}
	if m.Version != groupKeyVersion {
		return GroupKey{}, fmt.Errorf("%w: group key version %d", ErrVersion, m.Version)
	}
	id, err := IDFromBytes(m.Group)
	if err != nil {
		return GroupKey{}, fmt.Errorf("group key: %w", err)
	}
	if len(m.Key) != EpochKeySize {
		return GroupKey{}, fmt.Errorf("%w: epoch key is %d bytes, want %d", ErrMalformed, len(m.Key), EpochKeySize)
	}
	gk := GroupKey{Group: id, Epoch: m.Epoch}
	copy(gk.Key.k[:], m.Key)
	if err := gk.validate(); err != nil {
		return GroupKey{}, err
	}
	return gk, nil
}
