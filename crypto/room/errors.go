package room

import "errors"

// Errors returned by this package. Functions wrap them with detail; test for
// them with errors.Is.
var (
	// ErrBadID means a string or byte string is not a room ID.
	ErrBadID = errors.New("room: not a room ID")
	// ErrMalformed means encoded data does not decode: bad protobuf, or a
	// key, ID, nonce or signature of the wrong size.
	ErrMalformed = errors.New("room: malformed")
	// ErrVersion means encoded data has a version this code does not know.
	ErrVersion = errors.New("room: unknown version")
	// ErrTooLarge means an encoding or a field exceeds its limit (MaxBody,
	// MaxNameSize, MaxDescriptionSize and the encoded-size limits).
	ErrTooLarge = errors.New("room: too large")
	// ErrInvalid means a field is missing or out of range: a zero key, ID or
	// nonce, a zero sequence number, a time not after 1970, an empty name.
	ErrInvalid = errors.New("room: invalid")
	// ErrUnknownKind means a message kind this code does not know.
	ErrUnknownKind = errors.New("room: unknown message kind")
	// ErrUnknownRole means a role this code does not know.
	ErrUnknownRole = errors.New("room: unknown role")
	// ErrBadSignature means a signature is missing or does not verify under
	// the key that should have made it.
	ErrBadSignature = errors.New("room: bad signature")
	// ErrWrongRoom means a message or grant is bound to another room than the
	// one it was checked for: a replay from another room.
	ErrWrongRoom = errors.New("room: bound to another room")
	// ErrIDMismatch means a descriptor's room ID is not the one derived from
	// its host key and nonce.
	ErrIDMismatch = errors.New("room: room ID does not match host and nonce")
	// ErrExpired means a role grant is past its expiry.
	ErrExpired = errors.New("room: role grant expired")
	// ErrNotYetValid means a role grant was issued further in the future than
	// MaxClockSkew allows.
	ErrNotYetValid = errors.New("room: role grant issued in the future")
	// ErrLifetime means a role grant does not expire after it is issued, or
	// lives longer than MaxGrantLifetime.
	ErrLifetime = errors.New("room: bad role grant lifetime")
)
