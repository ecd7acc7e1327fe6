package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
)

// Paging of GET /v1/groups/{group}/messages.
const (
	DefaultGroupMessagesLimit = 50
	MaxGroupMessagesLimit     = 1000
)

// groupRoutes adds the private-group endpoints to mux.
func (s *Server) groupRoutes(mux *routeMux) {
	b := s.cfg.Backend.Groups
	mux.HandleFunc("GET /v1/groups", s.groups)
	mux.HandleFunc("POST /v1/groups", s.createGroup)
	mux.HandleFunc("GET /v1/groups/{group}", s.groupDetail)
	mux.HandleFunc("POST /v1/groups/{group}/accept", s.acceptGroup)
	mux.HandleFunc("POST /v1/groups/{group}/decline", s.groupAction(func(r *http.Request, id group.ID) error { return b.DeclineGroupInvite(id) }))
	mux.HandleFunc("POST /v1/groups/{group}/leave", s.groupAction(func(r *http.Request, id group.ID) error { return b.LeaveGroup(r.Context(), id) }))
	mux.HandleFunc("POST /v1/groups/{group}/rekey", s.groupAction(func(r *http.Request, id group.ID) error { return b.Rekey(r.Context(), id) }))
	mux.HandleFunc("POST /v1/groups/{group}/read", s.groupAction(func(r *http.Request, id group.ID) error { return b.MarkGroupRead(id) }))
	mux.HandleFunc("POST /v1/groups/{group}/rename", s.renameGroup)
	mux.HandleFunc("POST /v1/groups/{group}/members", s.inviteToGroup)
	mux.HandleFunc("POST /v1/groups/{group}/members/{peer}/remove", s.groupMemberAction(b.RemoveGroupMember))
	mux.HandleFunc("POST /v1/groups/{group}/members/{peer}/admin", s.groupAdmin)
	mux.HandleFunc("GET /v1/groups/{group}/messages", s.groupMessages)
	mux.HandleFunc("POST /v1/groups/{group}/messages", s.groupSend)
	mux.HandleFunc("GET /v1/groups/{group}/changes", s.groupChanges)
}

func (s *Server) groups(w http.ResponseWriter, r *http.Request) {
	gs, err := s.cfg.Backend.Groups.Groups()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for i := range gs {
		id, err := group.ParseID(gs[i].ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if gs[i].Last, err = s.lastGroupMessage(id); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	// Newest activity first, like the inbox; groups with nothing said yet
	// keep the backend's order after them.
	slices.SortStableFunc(gs, func(a, b Group) int {
		return lastTime(b).Compare(lastTime(a))
	})
	writeJSON(w, http.StatusOK, Groups{Groups: nonNil(gs)})
}

// lastLookback is how many of a group's newest lines GET /v1/groups reads
// to find the last one worth a preview (renames and leaves are skipped).
const lastLookback = 20

// lastGroupMessage is the newest text, reply or event of a group, nil if
// none is among its newest lastLookback lines.
func (s *Server) lastGroupMessage(id group.ID) (*GroupMessage, error) {
	ms, err := s.cfg.Backend.Groups.GroupMessages(id, lastLookback, time.Time{})
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		switch m.Kind {
		case "text", "reply", "event":
			return &m, nil
		}
	}
	return nil, nil
}

// lastTime is when g's last message was sent; zero when it has none.
func lastTime(g Group) time.Time {
	if g.Last == nil || g.Last.Time == nil {
		return time.Time{}
	}
	return *g.Last.Time
}

func (s *Server) createGroup(w http.ResponseWriter, r *http.Request) {
	var req CreateGroupRequest
	if !s.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		s.fail(w, r, fmt.Errorf("%w: name is required", errBadRequest))
		return
	}
	info, err := s.cfg.Backend.Groups.CreateGroup(r.Context(), req.Name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, info)
}

func (s *Server) groupDetail(w http.ResponseWriter, r *http.Request) {
	id, ok := s.group(w, r)
	if !ok {
		return
	}
	info, err := s.cfg.Backend.Groups.Group(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ms, err := s.cfg.Backend.Groups.GroupMembers(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, GroupDetail{Group: info, Members: nonNil(ms)})
}

func (s *Server) acceptGroup(w http.ResponseWriter, r *http.Request) {
	id, ok := s.group(w, r)
	if !ok {
		return
	}
	info, err := s.cfg.Backend.Groups.AcceptGroupInvite(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

// groupAction serves a POST on /v1/groups/{group}/… answered 204.
func (s *Server) groupAction(act func(r *http.Request, id group.ID) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, ok := s.group(w, r)
		if !ok {
			return
		}
		if err := act(r, id); err != nil {
			s.fail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// groupMemberAction serves a POST on /v1/groups/{group}/members/{peer}/….
func (s *Server) groupMemberAction(act func(ctx context.Context, id group.ID, p peer.ID) error) http.HandlerFunc {
	return s.groupAction(func(r *http.Request, id group.ID) error {
		p, err := s.resolvePeer(r.PathValue("peer"))
		if err != nil {
			return err
		}
		return act(r.Context(), id, p)
	})
}

func (s *Server) renameGroup(w http.ResponseWriter, r *http.Request) {
	id, ok := s.group(w, r)
	if !ok {
		return
	}
	var req GroupRenameRequest
	if !s.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		s.fail(w, r, fmt.Errorf("%w: name is required", errBadRequest))
		return
	}
	if err := s.cfg.Backend.Groups.RenameGroup(r.Context(), id, req.Name); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) inviteToGroup(w http.ResponseWriter, r *http.Request) {
	id, ok := s.group(w, r)
	if !ok {
		return
	}
	var req GroupPeersRequest
	if !s.decode(w, r, &req) {
		return
	}
	if len(req.Peers) == 0 {
		s.fail(w, r, fmt.Errorf("%w: peers is required", errBadRequest))
		return
	}
	var ps []peer.ID
	for _, ref := range req.Peers {
		p, err := s.resolvePeer(ref)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		ps = append(ps, p)
	}
	if err := s.cfg.Backend.Groups.InviteToGroup(r.Context(), id, ps...); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) groupAdmin(w http.ResponseWriter, r *http.Request) {
	id, ok := s.group(w, r)
	if !ok {
		return
	}
	var req GroupAdminRequest
	if !s.decode(w, r, &req) {
		return
	}
	p, err := s.resolvePeer(r.PathValue("peer"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.cfg.Backend.Groups.GrantGroupAdmin(r.Context(), id, p, req.Admin); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) groupMessages(w http.ResponseWriter, r *http.Request) {
	id, ok := s.group(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit := DefaultGroupMessagesLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxGroupMessagesLimit {
			s.fail(w, r, fmt.Errorf("%w: limit %q: want 1 to %d", errBadRequest, v, MaxGroupMessagesLimit))
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
	ms, err := s.cfg.Backend.Groups.GroupMessages(id, limit, before)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, GroupMessages{Messages: nonNil(ms)})
}

func (s *Server) groupChanges(w http.ResponseWriter, r *http.Request) {
	id, ok := s.group(w, r)
	if !ok {
		return
	}
	cs, err := s.cfg.Backend.Groups.GroupChanges(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, GroupChanges{Changes: nonNil(cs)})
}

func (s *Server) groupSend(w http.ResponseWriter, r *http.Request) {
	id, ok := s.group(w, r)
	if !ok {
		return
	}
	var req GroupSendRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Text == "" {
		s.fail(w, r, fmt.Errorf("%w: text is required", errBadRequest))
		return
	}
	out := GroupOutgoing{Kind: req.Kind, Body: req.Text}
	if req.ReplyTo != "" {
		target, err := parseGroupMessageID(req.ReplyTo)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		out.ReplyTo = target
	}
	if req.Start != nil {
		out.Start = *req.Start
	}
	m, err := s.cfg.Backend.Groups.GroupSend(r.Context(), id, out)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

// group resolves the {group} path parameter (see resolveGroup).
func (s *Server) group(w http.ResponseWriter, r *http.Request) (group.ID, bool) {
	id, err := s.resolveGroup(r.PathValue("group"))
	if err != nil {
		s.fail(w, r, err)
		return group.ID{}, false
	}
	return id, true
}
