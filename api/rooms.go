package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/backchannel/backchannel/crypto/room"
)

// Paging of GET /v1/rooms/{room}/chat.
const (
	DefaultRoomChatLimit = 50
	MaxRoomChatLimit     = 1000
)

// roomRoutes adds the live-room endpoints to mux.
func (s *Server) roomRoutes(mux *routeMux) {
	b := s.cfg.Backend.Rooms
	mux.HandleFunc("GET /v1/rooms", s.rooms)
	mux.HandleFunc("POST /v1/rooms", s.createRoom)
	mux.HandleFunc("POST /v1/rooms/join", s.joinRoom)
	mux.HandleFunc("GET /v1/rooms/discover", s.discoverRooms)
	mux.HandleFunc("GET /v1/rooms/{room}", s.roomDetail)
	mux.HandleFunc("POST /v1/rooms/{room}/name", s.roomSetName)
	mux.HandleFunc("POST /v1/rooms/{room}/leave", s.roomAction(func(r *http.Request, id room.ID) error { return b.LeaveRoom(id) }))
	mux.HandleFunc("POST /v1/rooms/{room}/say", s.roomPost(b.RoomSay))
	mux.HandleFunc("POST /v1/rooms/{room}/ask", s.roomPost(b.RoomAsk))
	mux.HandleFunc("GET /v1/rooms/{room}/chat", s.roomChat)
	mux.HandleFunc("GET /v1/rooms/{room}/questions", s.roomQuestions)
	mux.HandleFunc("POST /v1/rooms/{room}/questions/{msg}/upvote", s.roomTarget(b.RoomUpvote))
	mux.HandleFunc("POST /v1/rooms/{room}/questions/{msg}/answer", s.roomTarget(b.RoomAnswer))
	mux.HandleFunc("POST /v1/rooms/{room}/messages/{msg}/pin", s.roomTarget(b.RoomPin))
	mux.HandleFunc("POST /v1/rooms/{room}/messages/{msg}/hide", s.roomTarget(b.RoomHide))
	mux.HandleFunc("POST /v1/rooms/{room}/messages/{msg}/react", s.roomReact)
	mux.HandleFunc("POST /v1/rooms/{room}/mute", s.roomMute)
	mux.HandleFunc("POST /v1/rooms/{room}/grant", s.roomGrant)
	mux.HandleFunc("POST /v1/rooms/{room}/ask-speaker", s.roomAskSpeaker)
}

func (s *Server) rooms(w http.ResponseWriter, r *http.Request) {
	rs, err := s.cfg.Backend.Rooms.Rooms()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Rooms{Rooms: nonNil(rs)})
}

func (s *Server) createRoom(w http.ResponseWriter, r *http.Request) {
	var req CreateRoomRequest
	if !s.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Name) == "" {
		s.fail(w, r, fmt.Errorf("%w: name is required", errBadRequest))
		return
	}
	var start time.Time
	if req.Start != nil {
		start = *req.Start
	}
	info, err := s.cfg.Backend.Rooms.CreateRoom(r.Context(), req.Name, req.Description, start, req.As)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, info)
}

func (s *Server) joinRoom(w http.ResponseWriter, r *http.Request) {
	var req JoinRoomRequest
	if !s.decode(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Ref) == "" {
		s.fail(w, r, fmt.Errorf("%w: ref is required", errBadRequest))
		return
	}
	info, err := s.cfg.Backend.Rooms.JoinRoom(r.Context(), req.Ref, req.As)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) discoverRooms(w http.ResponseWriter, r *http.Request) {
	name := r.URL.Query().Get("name")
	if strings.TrimSpace(name) == "" {
		s.fail(w, r, fmt.Errorf("%w: name is required", errBadRequest))
		return
	}
	rs, err := s.cfg.Backend.Rooms.DiscoverRooms(r.Context(), name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, Rooms{Rooms: nonNil(rs)})
}

func (s *Server) roomDetail(w http.ResponseWriter, r *http.Request) {
	info, id, ok := s.room(w, r)
	if !ok {
		return
	}
	out := RoomDetail{Room: info, Speakers: []string{}, People: []RoomPerson{}}
	if info.Joined {
		who, err := s.cfg.Backend.Rooms.RoomPeople(id)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		who.Room = info
		out = who
		out.Speakers, out.People = nonNil(out.Speakers), nonNil(out.People)
	}
	writeJSON(w, http.StatusOK, out)
}

// roomAction serves a POST on /v1/rooms/{room}/… answered 204 No Content.
func (s *Server) roomAction(act func(r *http.Request, id room.ID) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, id, ok := s.room(w, r)
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

// roomPost serves say and ask: a text in, the new message's ID out.
func (s *Server) roomPost(post func(ctx context.Context, id room.ID, text string) (room.MessageID, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		_, rid, ok := s.room(w, r)
		if !ok {
			return
		}
		var req RoomTextRequest
		if !s.decode(w, r, &req) {
			return
		}
		if strings.TrimSpace(req.Text) == "" {
			s.fail(w, r, fmt.Errorf("%w: text is required", errBadRequest))
			return
		}
		id, err := post(r.Context(), rid, req.Text)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusCreated, RoomPosted{ID: id.String()})
	}
}

// roomTarget serves the actions on one message: upvote, answer, pin, hide.
func (s *Server) roomTarget(act func(ctx context.Context, id room.ID, target room.MessageID) error) http.HandlerFunc {
	return s.roomAction(func(r *http.Request, id room.ID) error {
		target, err := parseRoomMessageID(r.PathValue("msg"))
		if err != nil {
			return err
		}
		return act(r.Context(), id, target)
	})
}

func (s *Server) roomReact(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.room(w, r)
	if !ok {
		return
	}
	target, err := parseRoomMessageID(r.PathValue("msg"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req RoomReactRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Emoji == "" {
		s.fail(w, r, fmt.Errorf("%w: emoji is required", errBadRequest))
		return
	}
	if err := s.cfg.Backend.Rooms.RoomReact(r.Context(), id, target, req.Emoji); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) roomMute(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.room(w, r)
	if !ok {
		return
	}
	var req RoomMuteRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Peer == "" || req.Until.IsZero() {
		s.fail(w, r, fmt.Errorf("%w: peer and until are required", errBadRequest))
		return
	}
	p, err := s.resolveRoomPeer(id, req.Peer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.cfg.Backend.Rooms.RoomMute(r.Context(), id, p, req.Until); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// roomAskSpeaker sends a private 1:1 question to a speaker of the room.
func (s *Server) roomAskSpeaker(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.room(w, r)
	if !ok {
		return
	}
	var req RoomAskSpeakerRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Peer == "" || req.Text == "" {
		s.fail(w, r, fmt.Errorf("%w: peer and text are required", errBadRequest))
		return
	}
	p, err := s.resolveRoomPeer(id, req.Peer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	m, err := s.cfg.Backend.Rooms.RoomAskSpeaker(r.Context(), id, p, req.Text)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, m)
}

func (s *Server) roomGrant(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.room(w, r)
	if !ok {
		return
	}
	var req RoomGrantRequest
	if !s.decode(w, r, &req) {
		return
	}
	if req.Peer == "" {
		s.fail(w, r, fmt.Errorf("%w: peer is required", errBadRequest))
		return
	}
	role, err := parseRole(req.Role)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if req.TTLSeconds <= 0 || req.TTLSeconds > int64(room.MaxGrantLifetime/time.Second) {
		s.fail(w, r, fmt.Errorf("%w: ttl_seconds %d: want 1 to %d", errBadRequest, req.TTLSeconds, int64(room.MaxGrantLifetime/time.Second)))
		return
	}
	p, err := s.resolveRoomPeer(id, req.Peer)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.cfg.Backend.Rooms.RoomGrant(r.Context(), id, p, role, time.Duration(req.TTLSeconds)*time.Second); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) roomChat(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.room(w, r)
	if !ok {
		return
	}
	limit := DefaultRoomChatLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxRoomChatLimit {
			s.fail(w, r, fmt.Errorf("%w: limit %q: want 1 to %d", errBadRequest, v, MaxRoomChatLimit))
			return
		}
		limit = n
	}
	cs, err := s.cfg.Backend.Rooms.RoomChat(id, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, RoomChat{Messages: nonNil(cs)})
}

func (s *Server) roomQuestions(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.room(w, r)
	if !ok {
		return
	}
	qs, err := s.cfg.Backend.Rooms.RoomQuestions(id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, RoomQuestions{Questions: nonNil(qs)})
}

// room resolves the {room} path parameter (see resolveRoom).
func (s *Server) room(w http.ResponseWriter, r *http.Request) (Room, room.ID, bool) {
	info, id, err := s.resolveRoom(r.PathValue("room"))
	if err != nil {
		s.fail(w, r, err)
		return Room{}, room.ID{}, false
	}
	return info, id, true
}

// parseRole parses "speaker" or "moderator".
func parseRole(s string) (room.Role, error) {
	for _, r := range []room.Role{room.RoleSpeaker, room.RoleModerator} {
		if s == r.String() {
			return r, nil
		}
	}
	return 0, fmt.Errorf("%w: role %q: want speaker or moderator", errBadRequest, s)
}

func (s *Server) roomSetName(w http.ResponseWriter, r *http.Request) {
	_, id, ok := s.room(w, r)
	if !ok {
		return
	}
	var req RoomNameChoice
	if !s.decode(w, r, &req) {
		return
	}
	if err := s.cfg.Backend.Rooms.RoomSetName(r.Context(), id, req); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
