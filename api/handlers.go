package api

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Paging of GET /v1/conversations/{peer}/messages.
const (
	DefaultMessagesLimit = 50
	MaxMessagesLimit     = 1000
)

// routes builds the handler: every route behind the checks of guard, all
// counted by instrument.
func (s *Server) routes() http.Handler {
	mux := &routeMux{ServeMux: http.NewServeMux()}
	mux.HandleFunc("GET /v1/health", s.health)
	mux.HandleFunc("GET /v1/id", s.id)
	mux.HandleFunc("GET /v1/id/qr.png", s.inviteQR)
	mux.HandleFunc("POST /v1/invites", s.newInvite)
	mux.HandleFunc("GET /v1/status", s.status)
	mux.HandleFunc("PUT /v1/profile", s.setProfile)
	mux.HandleFunc("GET /v1/contacts", s.contacts)
	mux.HandleFunc("POST /v1/contacts", s.addContact)
	mux.HandleFunc("POST /v1/contacts/{peer}/block", s.peerAction(s.block))
	mux.HandleFunc("POST /v1/contacts/{peer}/unblock", s.peerAction(s.unblock))
	mux.HandleFunc("GET /v1/contacts/{peer}/safety-number", s.safetyNumber)
	mux.HandleFunc("POST /v1/contacts/{peer}/verify", s.verify)
	mux.HandleFunc("POST /v1/messages", s.send)
	mux.HandleFunc("GET /v1/inbox", s.conversations(s.cfg.Backend.Chats.Inbox))
	mux.HandleFunc("GET /v1/requests", s.conversations(s.cfg.Backend.Chats.Requests))
	mux.HandleFunc("POST /v1/requests/{peer}/accept", s.peerAction(s.accept))
	mux.HandleFunc("POST /v1/requests/{peer}/decline", s.peerAction(s.decline))
	mux.HandleFunc("POST /v1/requests/{peer}/block", s.peerAction(s.block))
	mux.HandleFunc("GET /v1/conversations/{peer}/messages", s.messages)
	mux.HandleFunc("POST /v1/conversations/{peer}/read", s.peerAction(s.markRead))
	mux.HandleFunc("POST /v1/conversations/{peer}/typing", s.typing)
	s.roomRoutes(mux)
	s.groupRoutes(mux)
	s.mailboxRoutes(mux)
	s.outboxRoutes(mux)
	s.uiRoutes(mux)
	mux.HandleFunc("GET /v1/events", s.events)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.cfg.Registry, promhttp.HandlerOpts{}))
	// The catch-all matches every method, so the mux never answers 405
	// itself: unmatched tells 405 from 404, in JSON like every error.
	mux.ServeMux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { unmatched(mux.ServeMux, w, r) })
	s.patterns = mux.patterns
	return s.instrument(s.guard(mux))
}

// routeMux is a ServeMux that remembers its patterns, so that a test can
// check every route's credentials.
type routeMux struct {
	*http.ServeMux
	patterns []string
}

func (m *routeMux) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.HandleFunc(pattern, h)
}

func (m *routeMux) Handle(pattern string, h http.Handler) {
	m.patterns = append(m.patterns, pattern)
	m.ServeMux.Handle(pattern, h)
}

// unmatched answers a request no route took: 405 with Allow when the path
// exists under other methods, else 404.
func unmatched(mux *http.ServeMux, w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete} {
		probe := &http.Request{Method: m, URL: r.URL, Host: r.Host}
		if _, pattern := mux.Handler(probe); pattern != "/" && pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, http.StatusMethodNotAllowed, CodeMethodNotAllowed, r.Method+" not allowed on "+r.URL.Path)
		return
	}
	writeError(w, http.StatusNotFound, CodeNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, Health{Status: "ok"})
}

func (s *Server) id(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.cfg.Backend.Identity.Self())
}

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.cfg.Backend.Identity.Status())
}

func (s *Server) newInvite(w http.ResponseWriter, r *http.Request) {
	var req InviteRequest
	if !s.decode(w, r, &req) {
		return
	}
	link, err := s.cfg.Backend.Identity.NewInvite(req.OneTime)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, InviteResponse{Invite: link})
}

func (s *Server) setProfile(w http.ResponseWriter, r *http.Request) {
	var req ProfileRequest
	if !s.decode(w, r, &req) {
		return
	}
	if err := s.cfg.Backend.Identity.SetProfileName(req.Name); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) contacts(w http.ResponseWriter, r *http.Request) {
	cs, err := s.cfg.Backend.Contacts.Contacts()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Contacts{Contacts: nonNil(cs)})
}

func (s *Server) addContact(w http.ResponseWriter, r *http.Request) {
	var req AddContactRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Invite == "" {
		s.fail(w, r, fmt.Errorf("%w: invite is required", errBadRequest))
		return
	}
	c, err := s.cfg.Backend.Contacts.AddContact(r.Context(), req.Invite, req.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, c)
}

// peerAction serves a POST on /…/{peer}/… whose answer is 204 No Content.
func (s *Server) peerAction(act func(r *http.Request, p peer.ID) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.peer(w, r)
		if !ok {
			return
		}
		if err := act(r, p); err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) block(r *http.Request, p peer.ID) error   { return s.cfg.Backend.Contacts.Block(p) }
func (s *Server) unblock(r *http.Request, p peer.ID) error { return s.cfg.Backend.Contacts.Unblock(p) }
func (s *Server) decline(r *http.Request, p peer.ID) error { return s.cfg.Backend.Chats.Decline(p) }
func (s *Server) markRead(r *http.Request, p peer.ID) error {
	return s.cfg.Backend.Chats.MarkRead(p)
}
func (s *Server) accept(r *http.Request, p peer.ID) error {
	return s.cfg.Backend.Chats.Accept(r.Context(), p)
}

func (s *Server) safetyNumber(w http.ResponseWriter, r *http.Request) {
	p, ok := s.peer(w, r)
	if !ok {
		return
	}
	sn, err := s.cfg.Backend.Contacts.SafetyNumber(p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := SafetyNumber{PeerID: p.String(), SafetyNumber: sn}
	if cs, err := s.cfg.Backend.Contacts.Contacts(); err == nil {
		for _, c := range cs {
			if c.PeerID == p.String() {
				out.Verified = c.Verified
			}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) verify(w http.ResponseWriter, r *http.Request) {
	p, ok := s.peer(w, r)
	if !ok {
		return
	}
	var req VerifyRequest
	if !s.decodeOptional(w, r, &req) {
		return
	}
	verified := req.Verified == nil || *req.Verified
	if err := s.cfg.Backend.Contacts.SetVerified(p, verified); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) send(w http.ResponseWriter, r *http.Request) {
	var req SendRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.To == "" || req.Text == "" {
		s.fail(w, r, fmt.Errorf("%w: to and text are required", errBadRequest))
		return
	}
	out := Outgoing{Kind: req.Kind, Body: req.Text, Key: req.Key}
	p, err := s.resolvePeer(req.To)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if req.ReplyTo != "" {
		id, err := s.resolveMessageID(p, req.ReplyTo)
		if err != nil {
			s.fail(w, r, fmt.Errorf("reply_to: %w", err))
			return
		}
		out.ReplyTo = id
		if out.Kind == "" {
			out.Kind = "reply"
		}
	}
	switch out.Kind {
	case "":
		out.Kind = "text"
	case "text", "reply", "reaction":
	default:
		s.fail(w, r, fmt.Errorf("%w: kind %q: want text, reply or reaction", errBadRequest, out.Kind))
		return
	}
	if out.Kind != "text" && out.ReplyTo == ([16]byte{}) {
		s.fail(w, r, fmt.Errorf("%w: a %s needs reply_to", errBadRequest, out.Kind))
		return
	}
	m, err := s.cfg.Backend.Chats.Send(r.Context(), p, out)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

// conversations serves the inbox or the requests, with each peer's name.
func (s *Server) conversations(list func() ([]Conversation, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		convs, err := list()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		names, origins := map[string]string{}, map[string]string{}
		if cs, err := s.cfg.Backend.Contacts.Contacts(); err == nil {
			for _, c := range cs {
				names[c.PeerID] = cmp.Or(c.Name, c.ProfileName)
				origins[c.PeerID] = c.Origin
			}
		}
		for i, c := range convs {
			convs[i].Name, convs[i].Origin = names[c.PeerID], origins[c.PeerID]
		}
		writeJSON(w, http.StatusOK, Conversations{Conversations: nonNil(convs)})
	}
}

func (s *Server) messages(w http.ResponseWriter, r *http.Request) {
	p, ok := s.peer(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit := DefaultMessagesLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxMessagesLimit {
			s.fail(w, r, fmt.Errorf("%w: limit %q: want 1 to %d", errBadRequest, v, MaxMessagesLimit))
			return
		}
		limit = n
	}
	var before time.Time
	if v := q.Get("before"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			s.fail(w, r, fmt.Errorf("%w: before %q: want an RFC 3339 time", errBadRequest, v))
			return
		}
		before = t
	}
	ms, err := s.cfg.Backend.Chats.Messages(p, limit, before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Messages{Messages: nonNil(ms)})
}

func (s *Server) typing(w http.ResponseWriter, r *http.Request) {
	p, ok := s.peer(w, r)
	if !ok {
		return
	}
	var req TypingRequest
	if !s.decode(w, r, &req) {
		return
	}
	if err := s.cfg.Backend.Chats.Typing(p, req.Typing); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// peer resolves the {peer} path parameter: a peer ID or a contact's name.
func (s *Server) peer(w http.ResponseWriter, r *http.Request) (peer.ID, bool) {
	p, err := s.resolvePeer(r.PathValue("peer"))
	if err != nil {
		s.fail(w, r, err)
		return "", false
	}
	return p, true
}

// decode reads a JSON body into v, refusing unknown fields and trailing
// data; on failure it answers the request and returns false.
func (s *Server) decode(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("empty body")
		}
		s.fail(w, r, bodyError(err))
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.fail(w, r, bodyError(err))
		} else {
			s.fail(w, r, fmt.Errorf("%w: trailing data after the JSON body", errBadRequest))
		}
		return false
	}
	return true
}

// decodeOptional is decode for a body that may be empty.
func (s *Server) decodeOptional(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		s.fail(w, r, bodyError(err))
		return false
	}
	if len(b) == 0 {
		return true
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		s.fail(w, r, bodyError(err))
		return false
	}
	return true
}

// bodyError classifies a body read or decode error.
func bodyError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return fmt.Errorf("%w: the limit is %d bytes", errTooLarge, mbe.Limit)
	}
	return fmt.Errorf("%w: body: %w", errBadRequest, err)
}

// fail answers with the error body for err.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	status, code := classify(err)
	// An error in the user's words keeps the code's words for the log.
	var said interface{ Detail() error }
	if errors.As(err, &said) && said.Detail() != nil {
		s.log.Debug("api: refused in the user's words", "method", r.Method, "path", r.URL.Path, "detail", said.Detail())
	}
	if status >= 500 {
		s.log.Error("api: request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	} else {
		s.log.Debug("api: request refused", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
	}
	writeError(w, status, code, err.Error())
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, Error{Error: msg, Code: code})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false) // invite links hold "&"; this is not HTML
	enc.Encode(v)
}
