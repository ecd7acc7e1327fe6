package stamp

import (
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/stamp/internal/stamppb"
)

// MaxEncodedSize bounds an encoded stamp. A valid one is at most 21 bytes.
const MaxEncodedSize = 32

// MarshalBinary encodes the stamp as protobuf (stamppb.Stamp). It fails for a
// stamp that is not well formed (see ErrBadStamp).
func (s Stamp) MarshalBinary() ([]byte, error) {
	if err := s.check(); err != nil {
		return nil, err
	}
	m := &stamppb.Stamp{
		Version:    uint32(s.Version),
		Difficulty: uint32(s.Difficulty),
		Day:        uint32(s.Day),
		Nonce:      s.Nonce,
	}
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("stamp: encode: %w", err)
	}
	return b, nil
}

// UnmarshalStamp decodes a stamp made by MarshalBinary. It checks size,
// version and difficulty range, and rejects unknown fields; it does not
// check the work (see Stamp.Verify).
func UnmarshalStamp(b []byte) (Stamp, error) {
	if len(b) > MaxEncodedSize {
		return Stamp{}, fmt.Errorf("%w: %d bytes, at most %d", ErrBadStamp, len(b), MaxEncodedSize)
	}
	var m stamppb.Stamp
	if err := proto.Unmarshal(b, &m); err != nil {
		return Stamp{}, fmt.Errorf("%w: %w", ErrBadStamp, err)
	}
	if len(m.ProtoReflect().GetUnknown()) != 0 {
		return Stamp{}, fmt.Errorf("%w: unknown fields", ErrBadStamp)
	}
	if m.Version != Version {
		return Stamp{}, fmt.Errorf("%w: version %d, want %d", ErrBadStamp, m.Version, Version)
	}
	if m.Difficulty > MaxDifficulty {
		return Stamp{}, fmt.Errorf("%w: difficulty %d above %d", ErrBadStamp, m.Difficulty, MaxDifficulty)
	}
	return Stamp{
		Version:    uint8(m.Version),
		Difficulty: uint8(m.Difficulty),
		Day:        Day(m.Day),
		Nonce:      m.Nonce,
	}, nil
}
