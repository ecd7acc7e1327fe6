// Package errs holds the sentinel errors of the node and of every service
// under it, documented in one place. They are wrapped with detail; test with
// errors.Is. Package node re-exports each under the same name.
package errs

import "errors"

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
	// ErrStalePreKey means a first message names a prekey of ours that is
	// expired, deleted, already used or never made: it is refused (with
	// ErrProtocol), as its session cannot be started.
	ErrStalePreKey = errors.New("prekey expired, used or unknown")
	// ErrInvalidRoom means a room, room reference or room message is not valid.
	ErrInvalidRoom = errors.New("invalid room")
	// ErrInvalidGroup means a group, group reference or group message is not
	// valid, or the group is not in a state that allows the operation.
	ErrInvalidGroup = errors.New("invalid group")
	// ErrNotAllowed means the operation needs a role this node does not
	// have (a group's owner or admin).
	ErrNotAllowed = errors.New("not allowed")
	// ErrKeyPending means the group has a newer epoch whose key has not
	// reached this node yet: sending waits for it.
	ErrKeyPending = errors.New("group key not received yet")
	// ErrNotSpeaker: a private question from a room goes only to its host,
	// moderators and speakers.
	ErrNotSpeaker = errors.New("not a speaker of the room")
	// ErrNoMailbox means the peer appointed no mailbox we know of (or none
	// that is still valid), so a message for it waits for it to come online.
	ErrNoMailbox = errors.New("no mailbox known for the peer")
	// ErrMailboxRefused means a mailbox refused a request: it holds no mail
	// for that recipient, a quota or rate limit is reached, or it does not
	// agree to hold mail for us.
	ErrMailboxRefused = errors.New("mailbox refused")
	// ErrInvalidInput means what the user asked to send is not valid: a
	// blank message, a reaction that is not one emoji (rooms and groups say
	// ErrInvalidRoom and ErrInvalidGroup).
	ErrInvalidInput = errors.New("invalid input")
	// ErrNoPeers means the operation asks the network (a room looked up by
	// name or ID in the DHT) but the node is connected to no peer and has
	// none in its DHT routing table: there is no one to ask, so it fails at
	// once instead of waiting out its search.
	ErrNoPeers = errors.New("not connected to any peer: add a bootstrap peer or a contact first")
)

// Said is an error in the user's words: it reads as its reason alone and
// wraps the sentinel that decides how callers treat it, the reason, and
// the detail in the code's words, if any, which the daemon logs (Detail)
// but does not show the user.
type Said struct {
	kind, reason, detail error
}

// Say returns a Said of kind that reads as reason; detail may be nil.
func Say(kind, reason, detail error) error { return &Said{kind: kind, reason: reason, detail: detail} }

func (e *Said) Error() string { return e.reason.Error() }

// Unwrap returns the kind, the reason and the detail (if any).
func (e *Said) Unwrap() []error {
	if e.detail == nil {
		return []error{e.kind, e.reason}
	}
	return []error{e.kind, e.reason, e.detail}
}

// Detail returns the error in the code's words, or nil.
func (e *Said) Detail() error { return e.detail }
