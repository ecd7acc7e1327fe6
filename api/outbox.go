package api

import (
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"
)

// outboxRoutes serves what the outbox still tries to deliver, and
// cancelling one.
func (s *Server) outboxRoutes(mux *routeMux) {
	mux.HandleFunc("GET /v1/outbox", s.outbox)
	mux.HandleFunc("POST /v1/outbox/{id}/cancel", s.cancelMessage)
}

// outbox answers {"messages": [...]}: our messages still waiting to be
// delivered, oldest first per peer.
func (s *Server) outbox(w http.ResponseWriter, r *http.Request) {
	ms, err := s.cfg.Backend.Chats.Pending()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Messages{Messages: nonNil(ms)})
}

// cancelMessage stops trying to deliver a waiting message, named by its ID
// or a unique prefix of at least 6 hex digits among the waiting ones, and
// answers the message, now failed.
func (s *Server) cancelMessage(w http.ResponseWriter, r *http.Request) {
	ref := strings.ToLower(r.PathValue("id"))
	if len(ref) < 6 || len(ref) > 32 {
		s.fail(w, r, fmt.Errorf("%w: a message ID or at least 6 of its hex digits", errBadRequest))
		return
	}
	if _, err := hex.DecodeString(ref[:len(ref)&^1]); err != nil {
		s.fail(w, r, fmt.Errorf("%w: %q is not hex", errBadRequest, ref))
		return
	}
	ms, err := s.cfg.Backend.Chats.Pending()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var found []Message
	for _, m := range ms {
		if strings.HasPrefix(m.ID, ref) {
			found = append(found, m)
		}
	}
	switch len(found) {
	case 0:
		s.fail(w, r, fmt.Errorf("%w: no message %s is waiting to be sent", ErrNotFound, ref))
		return
	case 1:
	default:
		s.fail(w, r, fmt.Errorf("%w: %d waiting messages start with %s: give more digits", errBadRequest, len(found), ref))
		return
	}
	id, err := parseMessageID(found[0].ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.cfg.Backend.Chats.Cancel(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}
