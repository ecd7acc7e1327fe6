package group

import (
	"fmt"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/internal/kdf"
	"github.com/backchannel/backchannel/crypto/keys"
)

const labelChain = "backchannel/group/chain/v1"

// firstChainKey derives a sender's chain key for sequence 0 of an epoch:
// HKDF-SHA256 with the epoch key as secret, the group ID as salt, and the
// label, epoch and sender's identity key as info. Each (group, epoch, sender)
// gets its own chain, so two senders never share a message key.
func firstChainKey(gk GroupKey, sender keys.PublicKey) kdf.Key {
	var info canon.Builder
	info.String(labelChain).Uint64(gk.Epoch).Fixed(sender[:])
	var ck kdf.Key
	copy(ck[:], kdf.HKDF(gk.Key.k[:], gk.Group[:], string(info.Build()), len(ck)))
	return ck
}

// chainPosition is a chain key and the sequence number of the message whose
// key it yields next.
type chainPosition struct {
	next uint64
	ck   kdf.Key
}

// step returns the message key for p.next and the position after it.
func (p chainPosition) step() (kdf.Key, chainPosition) {
	ck, mk := kdf.ChainStep(p.ck)
	return mk, chainPosition{next: p.next + 1, ck: ck}
}

// chainKeyFromBytes decodes a stored chain or message key.
func chainKeyFromBytes(b []byte) (kdf.Key, error) {
	var k kdf.Key
	if len(b) != len(k) {
		return k, fmt.Errorf("%w: chain key is %d bytes, want %d", ErrMalformed, len(b), len(k))
	}
	copy(k[:], b)
	if k == (kdf.Key{}) {
		return k, fmt.Errorf("%w: zero chain key", ErrMalformed)
	}
	return k, nil
}
