package nodeapi

import (
	"errors"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/safename"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// errorMap gives the api sentinel of the node's errors, first match wins:
// a room error wraps its roomstate reason inside node.ErrInvalidRoom, and
// the reason decides.
var errorMap = []struct{ node, api error }{
	{node.ErrUnknownPeer, api.ErrUnknownPeer},
	{node.ErrTooLarge, api.ErrTooLarge},
	{node.ErrBlocked, api.ErrBlocked},
	{node.ErrInvalidInvite, api.ErrInvalidInvite},
	{node.ErrNotFound, api.ErrNotFound},
	{roomstate.ErrNotAllowed, api.ErrNotAllowed},
	{node.ErrNotSpeaker, api.ErrNotSpeaker},
	{roomstate.ErrMuted, api.ErrMuted},
	{node.ErrInvalidRoom, api.ErrInvalidRoom},
	{node.ErrNotAllowed, api.ErrNotAllowed},
	{node.ErrInvalidGroup, api.ErrInvalidGroup},
	{node.ErrKeyPending, api.ErrKeyPending},
	{node.ErrRequestPending, api.ErrRequestPending},
	{node.ErrSelf, api.ErrInvalid},
	{node.ErrInvalidInput, api.ErrInvalid},
	{node.ErrClosed, api.ErrUnavailable},
	{node.ErrNoMailbox, api.ErrNoMailbox},
	{node.ErrMailboxRefused, api.ErrMailboxRefused},
	{node.ErrNoPeers, api.ErrNoPeers},
	{storage.ErrAmbiguous, api.ErrAmbiguous},
	{storage.ErrNotFound, api.ErrNotFound},
	{storage.ErrInvalid, api.ErrInvalid},
	{safename.ErrInvalid, api.ErrInvalid}, // a profile or contact name with a control character
}

// mapped is a node error that also wraps its api sentinel; it reads as the
// node's error.
type mapped struct{ err, kind error }

func (m mapped) Error() string   { return m.err.Error() }
func (m mapped) Unwrap() []error { return []error{m.kind, m.err} }

// apiError returns err wrapping the api sentinel of its kind, if it has
// one; nil stays nil.
func apiError(err error) error {
	if err == nil {
		return nil
	}
	for _, e := range errorMap {
		if errors.Is(err, e.node) {
			return mapped{err: err, kind: e.api}
		}
	}
	return err
}
