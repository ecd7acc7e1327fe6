package node

import "errors"

// Errors returned by Node's methods. They are wrapped with detail; test with
// errors.Is.
var (
	// ErrUnknownPeer means a name or peer ID names no one we know.
	ErrUnknownPeer = errors.New("unknown peer")
	// ErrTooLarge means a message or field exceeds its size limit.
	ErrTooLarge = errors.New("too large")
	// ErrBlocked means the peer is blocked.
	ErrBlocked = errors.New("peer is blocked")
	// ErrRequestPending means the peer's thread is a request: accept it first.
	ErrRequestPending = errors.New("message request not accepted yet")
	// ErrInvalidInvite means an invite link could not be read.
	ErrInvalidInvite = errors.New("invalid invite")
	// ErrNotFound means the thing asked for does not exist.
	ErrNotFound = errors.New("not found")
	// ErrSelf means the operation names this node itself.
	ErrSelf = errors.New("that is this node")
	// ErrClosed means the node is closed.
	ErrClosed = errors.New("node closed")
	// ErrProtocol means a peer broke the wire protocol.
	ErrProtocol = errors.New("protocol violation")
	// ErrInvalidRoom means a room, room reference or room message is not valid.
	ErrInvalidRoom = errors.New("invalid room")
	// ErrNotSpeaker: a private question from a room goes only to its host,
	// moderators and speakers.
	ErrNotSpeaker = errors.New("not a speaker of the room")
)
