package storage

import (
	"encoding/binary"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// Key prefixes, one per record kind; see the package doc for the layout.
const (
	prefixIdentity     = "k/id"
	prefixSignedPreKey = "k/spk/"
	prefixCurrentSPK   = "k/spkcur"
	prefixOneTimeKey   = "k/otk/"
	prefixOneTimeTime  = "k/otkt/"
	prefixSequence     = "q/"
	prefixSetting      = "g/"
	prefixContact      = "c/"
	prefixMessage      = "m/"
	prefixMessageIndex = "i/"
	prefixConversation = "v/"
	prefixOutbox       = "o/"
	prefixOutboxIndex  = "x/" // schema 1 only: dropped by the migration to 2
	prefixSession      = "s/"
	prefixRoom         = "r/"
	prefixRoomMessage  = "rm/"
	prefixRoomTime     = "rt/"
	prefixRoomIndex    = "ri/"
	prefixRoomHigh     = "rh/"
	// Ballots a room's host keeps (not the room's history).
	prefixRoomBallot      = "rb/"
	prefixRoomBallotTime  = "rbt/"
	prefixRoomBallotCount = "rbn/"
	prefixGroup           = "gg/"
	prefixGroupRoster     = "gr/"
	prefixGroupKey        = "gk/"
	prefixGroupParked     = "gq/"
	prefixGroupSend       = "gs/"
	prefixGroupChain      = "gc/"
	prefixGroupEnvelope   = "ge/"
	prefixGroupEnvIndex   = "gei/"
	prefixGroupHigh       = "gh/"
	prefixGroupMessage    = "gm/"
	prefixGroupMsgIndex   = "gmi/"
	prefixGroupNote       = "ga/"
	prefixGroupName       = "gn/"
	prefixGroupReceipt    = "gx/"
	prefixKnownPeer       = "n/"
	prefixMailbox         = "mb/"
	prefixMailboxItem     = "mq/"
	prefixMailboxDep      = "md/"
)

// maxPeerIDLen is the longest peer ID a key can hold (one length byte).
const maxPeerIDLen = 255

// peerKey returns prefix followed by the length-prefixed peer ID, with room
// for extra more bytes.
func peerKey(prefix string, p peer.ID, extra int) ([]byte, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("%w: empty peer ID", ErrInvalid)
	}
	if len(p) > maxPeerIDLen {
		return nil, fmt.Errorf("%w: peer ID of %d bytes", ErrInvalid, len(p))
	}
	k := make([]byte, 0, len(prefix)+1+len(p)+extra)
	k = append(k, prefix...)
	k = append(k, byte(len(p)))
	return append(k, p...), nil
}

// peerFromKey extracts the length-prefixed peer ID after prefix, and returns
// the rest of the key.
func peerFromKey(prefix string, k []byte) (peer.ID, []byte, error) {
	if len(k) < len(prefix)+1 {
		return "", nil, fmt.Errorf("%w: short key %q", ErrCorrupt, k)
	}
	k = k[len(prefix):]
	n := int(k[0])
	if len(k) < 1+n || n == 0 {
		return "", nil, fmt.Errorf("%w: bad peer in key", ErrCorrupt)
	}
	return peer.ID(k[1 : 1+n]), k[1+n:], nil
}

// roomKey returns prefix followed by the room ID, with room for extra more
// bytes. Room IDs have a fixed size, so no room's keys are a prefix of
// another's.
func roomKey(prefix string, room RoomID, extra int) []byte {
	k := make([]byte, 0, len(prefix)+len(room)+extra)
	k = append(k, prefix...)
	return append(k, room[:]...)
}

// roomPeerKey returns prefix, the room ID and the length-prefixed peer ID,
// with room for extra more bytes.
func roomPeerKey(prefix string, room RoomID, p peer.ID, extra int) ([]byte, error) {
	if len(p) == 0 {
		return nil, fmt.Errorf("%w: empty peer ID", ErrInvalid)
	}
	if len(p) > maxPeerIDLen {
		return nil, fmt.Errorf("%w: peer ID of %d bytes", ErrInvalid, len(p))
	}
	k := roomKey(prefix, room, 1+len(p)+extra)
	k = append(k, byte(len(p)))
	return append(k, p...), nil
}

// timeKey encodes t as big-endian nanoseconds since the Unix epoch; it
// refuses the zero time and times before the epoch, which would not sort.
func timeKey(t time.Time) (uint64, error) {
	if t.IsZero() || t.Before(time.Unix(0, 0)) {
		return 0, fmt.Errorf("%w: time %v not after the Unix epoch", ErrInvalid, t)
	}
	return uint64(t.UnixNano()), nil
}

// uint32Key returns prefix followed by the big-endian id.
func uint32Key(prefix string, id uint32) []byte {
	return binary.BigEndian.AppendUint32([]byte(prefix), id)
}

// stringKey returns prefix followed by s, refusing an empty s.
func stringKey(prefix, s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty name", ErrInvalid)
	}
	return append([]byte(prefix), s...), nil
}

// unixNano converts a stored time; 0 is the zero time.
func unixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// toUnixNano converts a time for storage; the zero time is 0.
func toUnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}
