package api

import (
	"errors"
	"net/http"
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
	CodeNoMailbox        = "no_mailbox"         // 404: the peer appointed no mailbox we know of
	CodeMethodNotAllowed = "method_not_allowed" // 405: the path exists, not with this method
	CodeAmbiguous        = "ambiguous_name"     // 409: two contacts have that name
	CodeRequestPending   = "request_pending"    // 409: the peer's thread is a request: accept it first
	CodeMailboxRefused   = "mailbox_refused"    // 409: a mailbox (or our own limit on them) refused the request
	CodeTooLarge         = "too_large"          // 413: body or message too large
	CodeInternal         = "internal"           // 500
	CodeUnavailable      = "unavailable"        // 503: the node is shutting down
)

// Errors a backend's errors wrap (test with errors.Is): each decides the
// status and code of the answer. An error that wraps none is a 500.
var (
	ErrUnknownPeer    = errors.New("unknown peer")                     // 404 unknown_peer
	ErrTooLarge       = errors.New("too large")                        // 413 too_large
	ErrBlocked        = errors.New("peer is blocked")                  // 403 blocked
	ErrInvalidInvite  = errors.New("invalid invite")                   // 400 invalid_invite
	ErrNotFound       = errors.New("not found")                        // 404 not_found
	ErrNotAllowed     = errors.New("not allowed")                      // 403 not_allowed
	ErrNotSpeaker     = errors.New("not a speaker of the room")        // 403 not_speaker
	ErrMuted          = errors.New("sender muted")                     // 403 muted
	ErrInvalidRoom    = errors.New("invalid room")                     // 400 invalid_room
	ErrInvalidGroup   = errors.New("invalid group")                    // 400 invalid_group
	ErrKeyPending     = errors.New("group key not received yet")       // 409 key_pending
	ErrRequestPending = errors.New("message request not accepted yet") // 409 request_pending
	ErrAmbiguous      = errors.New("ambiguous name")                   // 409 ambiguous_name
	ErrInvalid        = errors.New("invalid argument")                 // 400 bad_request
	ErrUnavailable    = errors.New("node closed")                      // 503 unavailable
	ErrNoMailbox      = errors.New("no mailbox known for the peer")    // 404 no_mailbox
	ErrMailboxRefused = errors.New("mailbox refused")                  // 409 mailbox_refused
)

// CodeNoPeers (409): the node is connected to no peer, so a search through
// the network (a room by name or ID) has no one to ask. ErrNoPeers chooses it.
const CodeNoPeers = "no_peers"

// ErrNoPeers means the node has no peer to ask: 409 no_peers.
var ErrNoPeers = errors.New("not connected to any peer")

// errorMap maps the backend's errors to a status and code, first match wins.
var errorMap = []struct {
	err    error
	status int
	code   string
}{
	{ErrNoPeers, http.StatusConflict, CodeNoPeers},
	{ErrUnknownPeer, http.StatusNotFound, CodeUnknownPeer},
	{ErrTooLarge, http.StatusRequestEntityTooLarge, CodeTooLarge},
	{ErrBlocked, http.StatusForbidden, CodeBlocked},
	{ErrInvalidInvite, http.StatusBadRequest, CodeInvalidInvite},
	{ErrNotFound, http.StatusNotFound, CodeNotFound},
	{ErrNotAllowed, http.StatusForbidden, CodeNotAllowed},
	{ErrNotSpeaker, http.StatusForbidden, CodeNotSpeaker},
	{ErrMuted, http.StatusForbidden, CodeMuted},
	{ErrInvalidRoom, http.StatusBadRequest, CodeInvalidRoom},
	{ErrInvalidGroup, http.StatusBadRequest, CodeInvalidGroup},
	{ErrKeyPending, http.StatusConflict, CodeKeyPending},
	{ErrRequestPending, http.StatusConflict, CodeRequestPending},
	{ErrAmbiguous, http.StatusConflict, CodeAmbiguous},
	{ErrInvalid, http.StatusBadRequest, CodeBadRequest},
	{ErrUnavailable, http.StatusServiceUnavailable, CodeUnavailable},
	{ErrNoMailbox, http.StatusNotFound, CodeNoMailbox},
	{ErrMailboxRefused, http.StatusConflict, CodeMailboxRefused},
	{errBadRequest, http.StatusBadRequest, CodeBadRequest},
	{errTooLarge, http.StatusRequestEntityTooLarge, CodeTooLarge},
}

// Errors of the Server's own methods.
var (
	ErrNotStarted = errors.New("api: server not started")   // LoginURL before Start
	ErrNoUI       = errors.New("api: server has no web UI") // LoginURL without Config.UI
)

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
