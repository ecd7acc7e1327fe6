package api

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/room"
)

// The one place that turns what a user typed into a peer, a room or a
// group, from the backend's lists.

// resolvePeer turns a peer ID or a contact's name into a peer ID. A name
// is matched exactly against the contacts' local names and, if none has
// it, against the names they gave themselves.
func (s *Server) resolvePeer(ref string) (peer.ID, error) {
	if ref == "" {
		return "", fmt.Errorf("%w: empty peer", errBadRequest)
	}
	if p, err := peer.Decode(ref); err == nil {
		return p, nil
	}
	cs, err := s.cfg.Backend.Contacts.Contacts()
	if err != nil {
		return "", err
	}
	for _, field := range []func(Contact) string{
		func(c Contact) string { return c.Name },
		func(c Contact) string { return c.ProfileName },
	} {
		var found []Contact
		for _, c := range cs {
			if field(c) == ref {
				found = append(found, c)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			p, err := peer.Decode(found[0].PeerID)
			if err != nil {
				return "", fmt.Errorf("contact %q: %w", ref, err)
			}
			return p, nil
		default:
			return "", fmt.Errorf("%w: more than one contact is named %q: use the peer ID", ErrAmbiguous, ref)
		}
	}
	return "", fmt.Errorf("%w: no contact named %q", ErrUnknownPeer, ref)
}

// resolveRoomPeer is resolvePeer for a peer in a joined room: failing a
// peer ID or a contact's name, it is the name someone in the room goes by
// (as it signed it, or as the room shows it; case folded), among the peers
// present and the authors of the recent chat.
func (s *Server) resolveRoomPeer(id room.ID, ref string) (peer.ID, error) {
	p, err := s.resolvePeer(ref)
	if !errors.Is(err, ErrUnknownPeer) {
		return p, err
	}
	who, werr := s.cfg.Backend.Rooms.RoomPeople(id)
	if werr != nil {
		return "", err
	}
	people := who.People
	if chat, err := s.cfg.Backend.Rooms.RoomChat(id, MaxRoomChatLimit); err == nil {
		for _, m := range chat {
			people = append(people, m.Sender)
		}
	}
	found := map[string]bool{}
	want := strings.TrimSpace(ref)
	for _, rp := range people {
		if !rp.Me && (strings.EqualFold(rp.Name, want) || strings.EqualFold(rp.Display, want)) {
			found[rp.ID] = true
		}
	}
	switch len(found) {
	case 0:
		return "", fmt.Errorf("%w: no contact and no one in the room named %q", ErrUnknownPeer, ref)
	case 1:
		for id := range found {
			return peer.Decode(id)
		}
	}
	return "", fmt.Errorf("%w: %d people in the room go by %q: use the peer ID", ErrAmbiguous, len(found), ref)
}

// resolveRoom turns a room ID, or the name of a room this node knows (case
// folded; a joined room wins over others), into the room.
func (s *Server) resolveRoom(ref string) (Room, room.ID, error) {
	if strings.TrimSpace(ref) == "" {
		return Room{}, room.ID{}, fmt.Errorf("%w: empty room", errBadRequest)
	}
	rs, err := s.cfg.Backend.Rooms.Rooms()
	if err != nil {
		return Room{}, room.ID{}, err
	}
	if id, err := room.ParseID(ref); err == nil {
		for _, info := range rs {
			if info.ID == id.String() {
				return info, id, nil
			}
		}
		return Room{}, room.ID{}, fmt.Errorf("%w: room %s is not known here: join it first", ErrNotFound, id)
	}
	var named, joined []Room
	for _, info := range rs {
		if strings.EqualFold(info.Name, strings.TrimSpace(ref)) {
			named = append(named, info)
			if info.Joined {
				joined = append(joined, info)
			}
		}
	}
	var found Room
	switch {
	case len(named) == 1:
		found = named[0]
	case len(joined) == 1:
		found = joined[0]
	case len(named) == 0:
		ids := make([]string, len(rs))
		for i, info := range rs {
			ids[i] = info.ID
		}
		i, err := byPrefix(ref, ids, "rooms")
		if err != nil {
			return Room{}, room.ID{}, err
		}
		if i < 0 {
			return Room{}, room.ID{}, fmt.Errorf("%w: no known room named %q: join it first", ErrNotFound, ref)
		}
		found = rs[i]
	default:
		return Room{}, room.ID{}, fmt.Errorf("%d rooms are named %q: use the room ID: %w", len(named), ref, ErrAmbiguous)
	}
	id, err := room.ParseID(found.ID)
	if err != nil {
		return Room{}, room.ID{}, fmt.Errorf("room %q: %w", ref, err)
	}
	return found, id, nil
}

// resolveGroup turns a group ID, or the exact name of a group this node
// knows, into its ID.
func (s *Server) resolveGroup(ref string) (group.ID, error) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return group.ID{}, fmt.Errorf("%w: empty group", errBadRequest)
	}
	if id, err := group.ParseID(ref); err == nil {
		return id, nil
	}
	gs, err := s.cfg.Backend.Groups.Groups()
	if err != nil {
		return group.ID{}, err
	}
	var found []Group
	for _, g := range gs {
		if g.Name == ref {
			found = append(found, g)
		}
	}
	switch len(found) {
	case 0:
		ids := make([]string, len(gs))
		for i, g := range gs {
			ids[i] = g.ID
		}
		i, err := byPrefix(ref, ids, "groups")
		if err != nil {
			return group.ID{}, err
		}
		if i < 0 {
			return group.ID{}, fmt.Errorf("%w: no group named %q", ErrNotFound, ref)
		}
		return group.ParseID(gs[i].ID)
	case 1:
		id, err := group.ParseID(found[0].ID)
		if err != nil {
			return group.ID{}, fmt.Errorf("group %q: %w", ref, err)
		}
		return id, nil
	}
	return group.ID{}, fmt.Errorf("%w: more than one group is named %q: use its ID", ErrInvalidGroup, ref)
}

// minPrefix is the shortest ID prefix a user may type for an ID.
const minPrefix = 6

// byPrefix finds the one ID of ids that starts with ref (case folded), at
// least minPrefix characters of it: its index, -1 if ref is too short or
// none starts so, an ErrAmbiguous error if several do.
func byPrefix(ref string, ids []string, what string) (int, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if len(ref) < minPrefix {
		return -1, nil
	}
	found := -1
	for i, id := range ids {
		if strings.HasPrefix(strings.ToLower(id), ref) {
			if found >= 0 {
				return -1, fmt.Errorf("%w: several %s' IDs start with %q: give more of it", ErrAmbiguous, what, ref)
			}
			found = i
		}
	}
	return found, nil
}

// resolveMessageID turns a 1:1 message ID, or a unique prefix of at least
// minPrefix hex digits of one in p's conversation (its newest 1,000
// messages), into the ID.
func (s *Server) resolveMessageID(p peer.ID, ref string) ([16]byte, error) {
	if len(ref) == 32 {
		id, err := parseMessageID(ref)
		if err != nil {
			return id, fmt.Errorf("%w: %w", errBadRequest, err)
		}
		return id, nil
	}
	if len(ref) < minPrefix || len(ref) > 32 || strings.Trim(strings.ToLower(ref), "0123456789abcdef") != "" {
		return [16]byte{}, fmt.Errorf("%w: %q: a message ID, or at least %d of its first hex digits", errBadRequest, ref, minPrefix)
	}
	ms, err := s.cfg.Backend.Chats.Messages(p, 1000, time.Time{})
	if err != nil {
		return [16]byte{}, err
	}
	ids := make([]string, len(ms))
	for i, m := range ms {
		ids[i] = m.ID
	}
	i, err := byPrefix(ref, ids, "messages")
	if err != nil {
		return [16]byte{}, err
	}
	if i < 0 {
		return [16]byte{}, fmt.Errorf("%w: no message %q in this conversation (an ID, or at least %d of its first hex digits)", ErrNotFound, ref, minPrefix)
	}
	return parseMessageID(ms[i].ID)
}
