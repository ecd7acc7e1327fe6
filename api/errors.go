package api

import (
	"errors"
	"net/http"

	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// Error codes: the "code" field of an error body. They are stable.
const (
	CodeBadRequest       = "bad_request"        // 400: malformed body, parameter or peer ID
	CodeInvalidInvite    = "invalid_invite"     // 400: the invite link cannot be used
	CodeInvalidRoom      = "invalid_room"       // 400: bad room reference, message or setting
	CodeInvalidGroup     = "invalid_group"      // 400: bad group reference or message, or not in the group
	CodeKeyPending       = "key_pending"        // 409: the group's newest key has not arrived yet
	CodeUnauthorized     = "unauthorized"       // 401: missing or wrong bearer token
	CodeForbidden        = "forbidden"          // 403: Host or Origin not allowed
	CodeBlocked          = "blocked"            // 403: the peer is blocked
	CodeNotAllowed       = "not_allowed"        // 403: the room or group does not let us do that (not host/moderator/admin)
	CodeNotSpeaker       = "not_speaker"        // 403: a private question from a room goes to its speakers only
	CodeMuted            = "muted"              // 403: we are muted in the room
	CodeNotFound         = "not_found"          // 404: no such route or record
	CodeUnknownPeer      = "unknown_peer"       // 404: no contact by that name or ID
	CodeMethodNotAllowed = "method_not_allowed" // 405: the path exists, not with this method
	CodeAmbiguous        = "ambiguous_name"     // 409: two contacts have that name
	CodeRequestPending   = "request_pending"    // 409: the peer's thread is a request: accept it first
	CodeTooLarge         = "too_large"          // 413: body or message too large
	CodeInternal         = "internal"           // 500
	CodeUnavailable      = "unavailable"        // 503: the node is shutting down
)

// errorMap maps the backend's errors to a status and code, first match wins.
var errorMap = []struct {
	err    error
	status int
	code   string
}{
	{node.ErrUnknownPeer, http.StatusNotFound, CodeUnknownPeer},
	{node.ErrTooLarge, http.StatusRequestEntityTooLarge, CodeTooLarge},
	{node.ErrBlocked, http.StatusForbidden, CodeBlocked},
	{node.ErrInvalidInvite, http.StatusBadRequest, CodeInvalidInvite},
	{node.ErrNotFound, http.StatusNotFound, CodeNotFound},
	{roomstate.ErrNotAllowed, http.StatusForbidden, CodeNotAllowed},
	{node.ErrNotSpeaker, http.StatusForbidden, CodeNotSpeaker},
	{roomstate.ErrMuted, http.StatusForbidden, CodeMuted},
	{node.ErrInvalidRoom, http.StatusBadRequest, CodeInvalidRoom},
	{node.ErrNotAllowed, http.StatusForbidden, CodeNotAllowed},
	{node.ErrInvalidGroup, http.StatusBadRequest, CodeInvalidGroup},
	{node.ErrKeyPending, http.StatusConflict, CodeKeyPending},
	{node.ErrRequestPending, http.StatusConflict, CodeRequestPending},
	{node.ErrSelf, http.StatusBadRequest, CodeBadRequest},
	{node.ErrClosed, http.StatusServiceUnavailable, CodeUnavailable},
	{storage.ErrAmbiguous, http.StatusConflict, CodeAmbiguous},
	{storage.ErrNotFound, http.StatusNotFound, CodeNotFound},
	{storage.ErrInvalid, http.StatusBadRequest, CodeBadRequest},
	{errBadRequest, http.StatusBadRequest, CodeBadRequest},
	{errTooLarge, http.StatusRequestEntityTooLarge, CodeTooLarge},
}

// Errors the handlers make themselves.
var (
	errBadRequest = errors.New("bad request")
	errTooLarge   = errors.New("request body too large")
)

// classify returns the HTTP status and code for err.
func classify(err error) (status int, code string) {
	for _, e := range errorMap {
		if errors.Is(err, e.err) {
			return e.status, e.code
		}
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return http.StatusRequestEntityTooLarge, CodeTooLarge
	}
	return http.StatusInternalServerError, CodeInternal
}
