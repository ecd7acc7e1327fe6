package rooms

import (
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
)

// State runs fn on a joined room's state, under the room's lock: fn must
// not keep the state nor call the service. For what the other methods do
// not tell (tests look at roles, hides and stored messages through it).
func (s *Service) State(id room.ID, fn func(*roomstate.State)) error {
	lr, err := s.joined(id)
	if err != nil {
		return err
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	fn(lr.state)
	return nil
}

// roomContextPrefix starts the context of a 1:1 message sent from a room.
const roomContextPrefix = "room:"

// RoomContext is the context a private question sent from room id carries.
func RoomContext(id room.ID) string { return roomContextPrefix + id.String() }

// RoomFromContext returns the room a message context names, if it names one.
func RoomFromContext(context string) (room.ID, bool) {
	s, ok := strings.CutPrefix(context, roomContextPrefix)
	if !ok {
		return room.ID{}, false
	}
	id, err := room.ParseID(s)
	return id, err == nil
}

// CheckSpeaker tells whether p may receive a private question from a joined
// room: the host, a moderator or a peer with a current speaker grant. The
// error wraps errs.ErrNotFound (not in the room), errs.ErrUnknownPeer or
// errs.ErrNotSpeaker.
func (s *Service) CheckSpeaker(id room.ID, p peer.ID) error {
	lr, err := s.joined(id)
	if err != nil {
		return err
	}
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return fmt.Errorf("%w: %w", errs.ErrUnknownPeer, err)
	}
	lr.mu.Lock()
	role := lr.state.Role(pk, time.Now())
	lr.mu.Unlock()
	if role < roomstate.RoleSpeaker {
		return fmt.Errorf("%w: %s is a %s in room %q, not a speaker", errs.ErrNotSpeaker, p, role, lr.desc.Name)
	}
	return nil
}
