package node

import "github.com/backchannel/backchannel/node/errs"

// Errors returned by Node's methods: the sentinels of package errs, under
// the names callers already use. They are wrapped with detail; test with
// errors.Is.
var (
	ErrUnknownPeer    = errs.ErrUnknownPeer
	ErrTooLarge       = errs.ErrTooLarge
	ErrBlocked        = errs.ErrBlocked
	ErrRequestPending = errs.ErrRequestPending
	ErrInvalidInvite  = errs.ErrInvalidInvite
	ErrNotFound       = errs.ErrNotFound
	ErrSelf           = errs.ErrSelf
	ErrClosed         = errs.ErrClosed
	ErrProtocol       = errs.ErrProtocol
	ErrInvalidRoom    = errs.ErrInvalidRoom
	ErrInvalidGroup   = errs.ErrInvalidGroup
	ErrNotAllowed     = errs.ErrNotAllowed
	ErrKeyPending     = errs.ErrKeyPending
	ErrNotSpeaker     = errs.ErrNotSpeaker
	ErrNoMailbox      = errs.ErrNoMailbox
	ErrMailboxRefused = errs.ErrMailboxRefused
	ErrInvalidInput   = errs.ErrInvalidInput
	ErrNoPeers        = errs.ErrNoPeers
)
