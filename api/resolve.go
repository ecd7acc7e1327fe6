package api

import (
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
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
	cs, err := s.cfg.Backend.Contacts()
	if err != nil {
		return "", err
	}
	for _, field := range []func(storage.Contact) string{
		func(c storage.Contact) string { return c.Name },
		func(c storage.Contact) string { return c.ProfileName },
	} {
		var found []storage.Contact
		for _, c := range cs {
			if field(c) == ref {
				found = append(found, c)
			}
		}
		switch len(found) {
		case 0:
			continue
		case 1:
			return found[0].Peer, nil
		default:
			return "", fmt.Errorf("%w: more than one contact is named %q: use the peer ID", storage.ErrAmbiguous, ref)
		}
	}
	return "", fmt.Errorf("%w: no contact named %q", node.ErrUnknownPeer, ref)
}

// resolveRoom turns a room ID, or the name of a room this node knows (case
// folded; a joined room wins over others), into the room.
func (s *Server) resolveRoom(ref string) (node.RoomInfo, error) {
	if strings.TrimSpace(ref) == "" {
		return node.RoomInfo{}, fmt.Errorf("%w: empty room", errBadRequest)
	}
	rs, err := s.cfg.Backend.Rooms()
	if err != nil {
		return node.RoomInfo{}, err
	}
	if id, err := room.ParseID(ref); err == nil {
		for _, info := range rs {
			if info.ID == id {
				return info, nil
			}
		}
		return node.RoomInfo{}, fmt.Errorf("%w: room %s is not known here: join it first", node.ErrNotFound, id)
	}
	var named, joined []node.RoomInfo
	for _, info := range rs {
		if strings.EqualFold(info.Name, strings.TrimSpace(ref)) {
			named = append(named, info)
			if info.Joined {
				joined = append(joined, info)
			}
		}
	}
	switch {
	case len(named) == 1:
		return named[0], nil
	case len(joined) == 1:
		return joined[0], nil
	case len(named) == 0:
		return node.RoomInfo{}, fmt.Errorf("%w: no known room named %q: join it first", node.ErrNotFound, ref)
	}
	return node.RoomInfo{}, fmt.Errorf("%d rooms are named %q: use the room ID: %w", len(named), ref, storage.ErrAmbiguous)
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
	gs, err := s.cfg.Backend.Groups()
	if err != nil {
		return group.ID{}, err
	}
	var found []group.ID
	for _, g := range gs {
		if g.Name == ref {
			found = append(found, g.ID)
		}
	}
	switch len(found) {
	case 0:
		return group.ID{}, fmt.Errorf("%w: no group named %q", node.ErrNotFound, ref)
	case 1:
		return found[0], nil
	}
	return group.ID{}, fmt.Errorf("%w: more than one group is named %q: use its ID", node.ErrInvalidGroup, ref)
}
