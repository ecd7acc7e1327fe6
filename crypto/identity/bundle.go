package identity

import (
	"fmt"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/internal/sessionpb"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/stamp"
)

const domainBundle = "identity/bundle/v1"

// MaxStampDifficulty caps the proof-of-work difficulty a bundle may ask for,
// so a hostile bundle cannot make a sender spin forever: it is the most a
// stamp can carry.
const MaxStampDifficulty = stamp.MaxDifficulty

// MaxBundleSize bounds an encoded bundle; real ones are about 300 bytes.
const MaxBundleSize = 2048

// Bundle is what a node hands out so that others can start a session with it.
type Bundle struct {
	Identity     PublicIdentity
	SignedPreKey SignedPreKey
	// OneTimePreKey is nil when the node has none to give.
	OneTimePreKey *OneTimePreKey
	// StampDifficulty is the proof-of-work difficulty, in bits, that the node
	// asks of strangers' first messages; 0 asks for none.
	StampDifficulty uint8
	Signature       []byte
}

// NewBundle assembles and signs a bundle. opk may be nil.
func (id Identity) NewBundle(spk SignedPreKey, opk *OneTimePreKey, stampDifficulty uint8) Bundle {
	b := Bundle{Identity: id.public, SignedPreKey: spk, StampDifficulty: stampDifficulty}
	if opk != nil {
		o := *opk
		b.OneTimePreKey = &o
	}
	b.Signature = id.signing.Sign(domainBundle, b.signedBytes())
	return b
}

func (b Bundle) signedBytes() []byte {
	var w canon.Builder
	w.Fixed(b.Identity.Key[:]).Fixed(b.Identity.DH[:]).
		Uint64(uint64(b.SignedPreKey.ID)).Fixed(b.SignedPreKey.Public[:]).Int64(b.SignedPreKey.Expires.Unix())
	if b.OneTimePreKey != nil {
		w.Uint64(1).Uint64(uint64(b.OneTimePreKey.ID)).Fixed(b.OneTimePreKey.Public[:])
	} else {
		w.Uint64(0)
	}
	return w.Uint64(uint64(b.StampDifficulty)).Build()
}

// Verify checks every signature in the bundle and the signed prekey's expiry.
// The caller must also check that Identity.Key is the peer it asked.
func (b Bundle) Verify(now time.Time) error {
	if err := b.Identity.Verify(); err != nil {
		return err
	}
	if err := b.SignedPreKey.Verify(b.Identity.Key, now); err != nil {
		return err
	}
	if b.StampDifficulty > MaxStampDifficulty {
		return fmt.Errorf("%w: stamp difficulty %d above %d", ErrMalformed, b.StampDifficulty, MaxStampDifficulty)
	}
	if !b.Identity.Key.Verify(domainBundle, b.signedBytes(), b.Signature) {
		return fmt.Errorf("%w: bundle of %s", ErrBadSignature, b.Identity.Key)
	}
	return nil
}

// MarshalBinary encodes the bundle for the wire.
func (b Bundle) MarshalBinary() ([]byte, error) {
	m := &sessionpb.Bundle{
		Version:         version,
		Identity:        b.Identity.ToProto(),
		SignedPreKey:    b.SignedPreKey.toProto(),
		StampDifficulty: uint32(b.StampDifficulty),
		Signature:       b.Signature,
	}
	if b.OneTimePreKey != nil {
		m.OneTimePreKey = &sessionpb.OneTimePreKey{Id: b.OneTimePreKey.ID, PublicKey: b.OneTimePreKey.Public.Bytes()}
	}
	return proto.Marshal(m)
}

// UnmarshalBundle decodes a bundle and checks its form. Call Verify before
// using it: it checks the signatures and the expiry.
func UnmarshalBundle(data []byte) (Bundle, error) {
	if len(data) > MaxBundleSize {
		return Bundle{}, fmt.Errorf("%w: bundle of %d bytes exceeds %d", ErrMalformed, len(data), MaxBundleSize)
	}
	var m sessionpb.Bundle
	if err := proto.Unmarshal(data, &m); err != nil {
		return Bundle{}, fmt.Errorf("%w: bundle: %w", ErrMalformed, err)
	}
	if m.Version != version {
		return Bundle{}, fmt.Errorf("%w: bundle version %d", ErrVersion, m.Version)
	}
	id, err := PublicIdentityFromProto(m.Identity)
	if err != nil {
		return Bundle{}, err
	}
	spk, err := signedPreKeyFromProto(m.SignedPreKey)
	if err != nil {
		return Bundle{}, err
	}
	if m.StampDifficulty > MaxStampDifficulty {
		return Bundle{}, fmt.Errorf("%w: stamp difficulty %d above %d", ErrMalformed, m.StampDifficulty, MaxStampDifficulty)
	}
	if len(m.Signature) != keys.SignatureSize {
		return Bundle{}, fmt.Errorf("%w: bundle signature is %d bytes", ErrMalformed, len(m.Signature))
	}
	b := Bundle{
		Identity:        id,
		SignedPreKey:    spk,
		StampDifficulty: uint8(m.StampDifficulty),
		Signature:       append([]byte(nil), m.Signature...),
	}
	if m.OneTimePreKey != nil {
		opk, err := oneTimePreKeyFromProto(m.OneTimePreKey)
		if err != nil {
			return Bundle{}, err
		}
		b.OneTimePreKey = &opk
	}
	return b, nil
}
