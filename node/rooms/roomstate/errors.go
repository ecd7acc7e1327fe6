package roomstate

import "errors"

// Errors returned by this package. Functions wrap them with detail; test for
// them with errors.Is.
var (
	// ErrBadBody means a message's body does not decode for its kind, or a
	// field is out of range: a text too long or not UTF-8, a zero target, a
	// presence TTL or mute length outside its bounds, a malformed role grant.
	ErrBadBody = errors.New("roomstate: bad message body")
	// ErrWrongRoom means a message is bound to another room than this state's.
	ErrWrongRoom = errors.New("roomstate: message for another room")
	// ErrUnknownKind means a message kind this package does not know.
	ErrUnknownKind = errors.New("roomstate: unknown message kind")
	// ErrNotAllowed means the sender may not send this kind: a moderation
	// kind (answered, pin, hide, mute, role grant) from a peer that is
	// neither the host nor a moderator, or a mute of the host.
	ErrNotAllowed = errors.New("roomstate: not allowed")
	// ErrMuted means the sender was muted at the message's timestamp.
	ErrMuted = errors.New("roomstate: sender muted")
	// ErrBadGrant means a role grant does not verify under the room's host
	// key and room ID: signed by another key, for another room, or (in
	// Allowed) not valid at the time of the check.
	ErrBadGrant = errors.New("roomstate: bad role grant")
)
