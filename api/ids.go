package api

import (
	"encoding/hex"
	"fmt"

	"github.com/backchannel/backchannel/crypto/room"
)

// decodeHexID decodes s, which must be exactly 2*len(dst) hex digits, into
// dst: a message ID.
func decodeHexID(s string, dst []byte) error {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(dst) {
		return fmt.Errorf("message ID %q: want %d hex digits", s, 2*len(dst))
	}
	copy(dst, b)
	return nil
}

// parseMessageID parses a 1:1 message ID: 32 hex digits.
func parseMessageID(s string) ([16]byte, error) {
	var id [16]byte
	return id, decodeHexID(s, id[:])
}

// parseRoomMessageID parses a room message ID: 64 hex digits.
func parseRoomMessageID(s string) (room.MessageID, error) {
	var id room.MessageID
	if err := decodeHexID(s, id[:]); err != nil {
		return room.MessageID{}, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return id, nil
}

// parseGroupMessageID parses a group message ID: 64 hex digits.
func parseGroupMessageID(s string) ([32]byte, error) {
	var id [32]byte
	if err := decodeHexID(s, id[:]); err != nil {
		return [32]byte{}, fmt.Errorf("%w: %w", errBadRequest, err)
	}
	return id, nil
}
