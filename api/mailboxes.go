package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

// MaxMailboxDays bounds the days of POST /v1/mailboxes: a mailbox with the
// default limits refuses an appointment that lasts longer.
const MaxMailboxDays = 400

// mailboxRoutes adds the mailbox endpoints to mux.
func (s *Server) mailboxRoutes(mux *routeMux) {
	mux.HandleFunc("GET /v1/mailboxes", s.mailboxes)
	mux.HandleFunc("POST /v1/mailboxes", s.appointMailbox)
	mux.HandleFunc("DELETE /v1/mailboxes/{peer}", s.peerAction(s.revokeMailbox))
	mux.HandleFunc("POST /v1/mailboxes/drain", s.drainMailboxes)
	mux.HandleFunc("GET /v1/mailbox/held", s.mailboxHeld)
	mux.HandleFunc("GET /v1/mailbox/serve", s.mailboxServing)
	mux.HandleFunc("PUT /v1/mailbox/serve", s.setMailboxServing)
	mux.HandleFunc("GET /v1/contacts/{peer}/mailboxes", s.mailboxesOf)
}

func (s *Server) mailboxes(w http.ResponseWriter, r *http.Request) {
	ms, err := s.cfg.Backend.Mailboxes.Mailboxes()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Mailboxes{Mailboxes: nonNil(ms)})
}

func (s *Server) appointMailbox(w http.ResponseWriter, r *http.Request) {
	var req AppointMailboxRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Peer == "" {
		s.fail(w, r, fmt.Errorf("%w: peer is required", errBadRequest))
		return
	}
	if req.Days < 0 || req.Days > MaxMailboxDays {
		s.fail(w, r, fmt.Errorf("%w: days %d: want 1 to %d, or 0 for the default", errBadRequest, req.Days, MaxMailboxDays))
		return
	}
	p, err := s.resolvePeer(req.Peer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.cfg.Backend.Mailboxes.AppointMailbox(r.Context(), p, time.Duration(req.Days)*24*time.Hour)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) revokeMailbox(r *http.Request, p peer.ID) error {
	return s.cfg.Backend.Mailboxes.RevokeMailbox(r.Context(), p)
}

func (s *Server) drainMailboxes(w http.ResponseWriter, r *http.Request) {
	if err := s.cfg.Backend.Mailboxes.DrainMailboxes(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) mailboxHeld(w http.ResponseWriter, r *http.Request) {
	hs, err := s.cfg.Backend.Mailboxes.MailboxHeld()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, MailboxesHeld{Held: nonNil(hs)})
}

func (s *Server) mailboxServing(w http.ResponseWriter, r *http.Request) {
	sv, err := s.cfg.Backend.Mailboxes.MailboxServing()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sv)
}

func (s *Server) setMailboxServing(w http.ResponseWriter, r *http.Request) {
	var req MailboxServeRequest
	if !s.decode(w, r, &req) {
		return
	}
	if err := s.cfg.Backend.Mailboxes.SetMailboxServeContacts(req.Contacts); err != nil {
		s.fail(w, r, err)
		return
	}
	s.mailboxServing(w, r)
}

func (s *Server) mailboxesOf(w http.ResponseWriter, r *http.Request) {
	p, ok := s.peer(w, r)
	if !ok {
		return
	}
	ms, err := s.cfg.Backend.Mailboxes.MailboxesOf(p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, KnownMailboxes{PeerID: p.String(), Mailboxes: nonNil(ms)})
}
