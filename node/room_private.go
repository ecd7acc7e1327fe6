package node

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

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

// RoomAskSpeaker sends a private question to a speaker of a joined room: the
// host, a moderator or a peer with a current speaker grant. It is an ordinary
// end-to-end 1:1 message with the room as its context, so a speaker who has
// not accepted us finds it in their requests, marked with the room.
func (n *Node) RoomAskSpeaker(ctx context.Context, id room.ID, speaker peer.ID, text string) (storage.Message, error) {
	lr, ok := n.rooms.get(id)
	if !ok {
		return storage.Message{}, fmt.Errorf("%w: not in room %s", ErrNotFound, id)
	}
	pk, err := peerKeyOf(speaker)
	if err != nil {
		return storage.Message{}, fmt.Errorf("%w: %w", ErrUnknownPeer, err)
	}
	lr.mu.Lock()
	role := lr.state.Role(pk, time.Now())
	lr.mu.Unlock()
	if role < roomstate.RoleSpeaker {
		return storage.Message{}, fmt.Errorf("%w: %s is a %s in room %q, not a speaker", ErrNotSpeaker, speaker, role, lr.desc.Name)
	}
	return n.Send(ctx, speaker, Outgoing{Body: text, Context: RoomContext(id)})
}
