package mailbox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/internal/aead"
	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/internal/kdf"
	"github.com/backchannel/backchannel/crypto/keys"
)

const (
	// PadUnit is the unit sealed plaintexts are padded to a multiple of.
	PadUnit = 256
	// MaxFrame is the largest frame SealBatch seals: a 1:1 frame of at most
	// ratchet.MaxMessageSize + 1024 bytes fits, with room to spare (the
	// tests hold it to that; this package does not import crypto/ratchet).
	MaxFrame = 67 << 10
	// MaxSealed is the largest sealed item: a MaxFrame frame from a peer ID
	// of the largest size.
	MaxSealed = sealedHeader + (maxPlain+PadUnit-1)/PadUnit*PadUnit + aead.Overhead

	sealVersion = 1
	// sealedHeader is the version, the ephemeral key and the index.
	sealedHeader = 1 + keys.DHKeySize + 4
	// minSealed is the smallest sealed item: one PadUnit of plaintext.
	minSealed = sealedHeader + PadUnit + aead.Overhead
	// maxPlain is the largest plaintext before padding.
	maxPlain = 1 + maxPeerIDSize + 4 + MaxFrame

	labelBatchKey = "backchannel mailbox batch key v1"
	labelItemKey  = "backchannel mailbox item key v1"
	labelItem     = "backchannel mailbox item v1"
	labelItemAD   = "backchannel mailbox item ad v1"
)

// paddedLen is the size of a plaintext of n bytes once padded.
func paddedLen(n int) int { return (n + PadUnit - 1) / PadUnit * PadUnit }

// batchKey derives a batch's base key from the X25519 shared secret, bound to
// the batch's ephemeral key and the recipient's key.
func batchKey(shared [32]byte, epk, to keys.DHPublic) kdf.Key {
	salt := make([]byte, 0, 2*keys.DHKeySize)
	salt = append(append(salt, epk[:]...), to[:]...)
	var k kdf.Key
	copy(k[:], kdf.HKDF(shared[:], salt, labelBatchKey, len(k)))
	return k
}

// itemKey derives the one-time key of a batch's item i.
func itemKey(base kdf.Key, i uint32) kdf.Key {
	var info canon.Builder
	var k kdf.Key
	copy(k[:], kdf.HKDF(base[:], nil, string(info.String(labelItemKey).Uint64(uint64(i)).Build()), len(k)))
	return k
}

// itemAD binds an item's header and its recipient's peer ID.
func itemAD(header []byte, toID peer.ID) []byte {
	var b canon.Builder
	return b.String(labelItemAD).Uint64(sealVersion).Fixed(header).Bytes([]byte(toID)).Build()
}

// SealBatch seals each frame for the recipient (its X25519 identity key to
// and its peer ID toID), naming from inside. The batch has one ephemeral
// X25519 key; item i's key is derived with HKDF from the shared secret, the
// ephemeral public key, to and i, so the items open one by one, in any order.
//
// Each sealed item is version 1 ‖ the ephemeral public key (32 bytes) ‖ i
// (4 bytes, big-endian) ‖ the XChaCha20-Poly1305 ciphertext of
// len(from) (1 byte) ‖ from ‖ len(frame) (4 bytes, big-endian) ‖ frame ‖ zero
// padding up to a multiple of PadUnit. The associated data binds the header
// and toID. A sealed item is 37 + k*PadUnit + 16 bytes for some k >= 1 (the
// header, the padded plaintext, the tag), at most MaxSealed.
//
// SealBatch fails with ErrTooLarge if a frame exceeds MaxFrame, and with
// ErrInvalid if to is zero or low-order or a peer ID is not one. The name
// from is a claim the recipient must check against the frame (a 1:1 frame
// opens only in the session with its real sender); sealing authenticates
// nothing about the sender.
func SealBatch(to keys.DHPublic, toID peer.ID, from peer.ID, frames [][]byte) ([][]byte, error) {
	if to.IsZero() {
		return nil, fmt.Errorf("%w: zero recipient key", ErrInvalid)
	}
	if err := checkPeerID("recipient", toID); err != nil {
		return nil, err
	}
	if err := checkPeerID("sender", from); err != nil {
		return nil, err
	}
	if uint64(len(frames)) > math.MaxUint32 {
		return nil, fmt.Errorf("%w: %d frames in one batch", ErrTooLarge, len(frames))
	}
	for i, f := range frames {
		if len(f) > MaxFrame {
			return nil, fmt.Errorf("%w: frame %d is %d bytes, limit %d", ErrTooLarge, i, len(f), MaxFrame)
		}
	}
	if len(frames) == 0 {
		return [][]byte{}, nil
	}
	eph := keys.GenerateDH()
	epk := eph.Public()
	shared, err := eph.DH(to) // refuses the all-zero secret of a low-order key
	if err != nil {
		return nil, fmt.Errorf("%w: recipient key: %w", ErrInvalid, err)
	}
	base := batchKey(shared, epk, to)

	out := make([][]byte, len(frames))
	var plain []byte
	for i, f := range frames {
		header := make([]byte, 0, sealedHeader)
		header = append(header, sealVersion)
		header = append(header, epk[:]...)
		header = binary.BigEndian.AppendUint32(header, uint32(i))

		n := paddedLen(1 + len(from) + 4 + len(f))
		plain = append(plain[:0], byte(len(from)))
		plain = append(plain, from...)
		plain = binary.BigEndian.AppendUint32(plain, uint32(len(f)))
		plain = append(plain, f...)
		plain = append(plain, make([]byte, n-len(plain))...)

		ct := aead.Seal(itemKey(base, uint32(i)), labelItem, plain, itemAD(header, toID))
		out[i] = append(header, ct...)
	}
	return out, nil
}

// Opener opens sealed items for one recipient. It caches the batch key of
// the last ephemeral key it met, so a batch costs one X25519 operation. It
// is not safe for concurrent use.
type Opener struct {
	priv keys.DHPrivate
	pub  keys.DHPublic
	self peer.ID

	// The batch key of ephemeral key lastEPK, if haveLast.
	lastEPK  keys.DHPublic
	lastBase kdf.Key
	haveLast bool
}

// NewOpener returns an Opener for the recipient with X25519 identity key priv
// and peer ID self. With a zero priv, every Open fails.
func NewOpener(priv keys.DHPrivate, self peer.ID) *Opener {
	o := &Opener{priv: priv, self: self}
	if !priv.IsZero() {
		o.pub = priv.Public()
	}
	return o
}

var errNoKey = errors.New("no private key")

// Open opens a sealed item made by SealBatch for this recipient, and returns
// the sender it names (a claim: see SealBatch) and the frame. Any failure is
// ErrOpen: another recipient's key or peer ID, a change to any byte, or an
// item not in the form SealBatch makes (lengths, non-zero or excess padding,
// a frame over MaxFrame, a sender that is not a peer ID).
func (o *Opener) Open(sealed []byte) (from peer.ID, frame []byte, err error) {
	if len(sealed) < minSealed || len(sealed) > MaxSealed || (len(sealed)-sealedHeader-aead.Overhead)%PadUnit != 0 {
		return "", nil, fmt.Errorf("%w: item of %d bytes", ErrOpen, len(sealed))
	}
	if sealed[0] != sealVersion {
		return "", nil, fmt.Errorf("%w: item version %d", ErrOpen, sealed[0])
	}
	header := sealed[:sealedHeader]
	var epk keys.DHPublic
	copy(epk[:], header[1:])
	index := binary.BigEndian.Uint32(header[1+keys.DHKeySize:])
	base, err := o.batchKey(epk)
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	plain, err := aead.Open(itemKey(base, index), labelItem, sealed[sealedHeader:], itemAD(header, o.self))
	if err != nil {
		return "", nil, fmt.Errorf("%w: authentication failed", ErrOpen)
	}
	return parsePlain(plain)
}

// batchKey returns the batch key of ephemeral key epk, from the cache or
// from a new X25519 operation.
func (o *Opener) batchKey(epk keys.DHPublic) (kdf.Key, error) {
	if o.haveLast && o.lastEPK == epk {
		return o.lastBase, nil
	}
	if o.priv.IsZero() {
		return kdf.Key{}, errNoKey
	}
	if epk.IsZero() {
		return kdf.Key{}, keys.ErrZeroKey
	}
	shared, err := o.priv.DH(epk) // refuses the all-zero secret of a low-order key
	if err != nil {
		return kdf.Key{}, err
	}
	o.lastEPK, o.lastBase, o.haveLast = epk, batchKey(shared, epk, o.pub), true
	return o.lastBase, nil
}

// parsePlain reads an opened plaintext, which must be in the exact form
// SealBatch makes.
func parsePlain(p []byte) (peer.ID, []byte, error) {
	n := int(p[0]) // p is at least PadUnit bytes
	if 1+n+4 > len(p) {
		return "", nil, fmt.Errorf("%w: sender ID of %d bytes", ErrOpen, n)
	}
	from := peer.ID(p[1 : 1+n])
	if err := checkPeerID("sender", from); err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrOpen, err)
	}
	fl := binary.BigEndian.Uint32(p[1+n:])
	if fl > MaxFrame {
		return "", nil, fmt.Errorf("%w: frame of %d bytes, limit %d", ErrOpen, fl, MaxFrame)
	}
	end := 1 + n + 4 + int(fl)
	if paddedLen(end) != len(p) {
		return "", nil, fmt.Errorf("%w: %d bytes padded to %d", ErrOpen, end, len(p))
	}
	for _, c := range p[end:] {
		if c != 0 {
			return "", nil, fmt.Errorf("%w: non-zero padding", ErrOpen)
		}
	}
	return from, p[1+n+4 : end : end], nil
}
