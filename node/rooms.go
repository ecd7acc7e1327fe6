package node

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms"
	"github.com/backchannel/backchannel/storage"
)

// Live rooms are package rooms; the node's methods hand each call to its
// rooms service, made at Start (they need a started node).

// ProtocolSync is the rooms' sync protocol (descriptors, history, names).
const ProtocolSync = rooms.ProtocolSync

// ProtocolRoomBallot hands a listener's vote to the host of a large room.
const ProtocolRoomBallot = rooms.ProtocolBallot

// RoomTopicPrefix starts every live room's GossipSub topic.
const RoomTopicPrefix = rooms.TopicPrefix

// RoomInfo describes a room to the user.
type RoomInfo = rooms.Info

// RoomNameChoice is the name this node gives itself in a room: the profile
// name, or one of its own for the room (empty for none).
type RoomNameChoice = rooms.NameChoice

// RoomPerson is how a room shows one peer: the name it signed, what to
// display, its role, whether it is a (verified) contact or us.
type RoomPerson = rooms.Person

// RoomPeople is who is in a joined room.
type RoomPeople = rooms.People

// RoomChatLine is a visible chat line of a room and its sender.
type RoomChatLine = rooms.ChatLine

// RoomQuestionLine is a visible question of a room and its asker.
type RoomQuestionLine = rooms.QuestionLine

// CreateRoom makes a room hosted by this node and joins it, taking the
// name as in it (nil: the profile name).
func (n *Node) CreateRoom(ctx context.Context, name, description string, start time.Time, as *RoomNameChoice) (RoomInfo, error) {
	return n.rooms.CreateRoom(ctx, name, description, start, as)
}

// JoinRoom joins a room by its ID or its name: it asks a peer that is in it
// (found among the connected peers, or through the DHT) for the descriptor
// and the recent history, then subscribes to the room's topic. We take the
// name as in it; nil keeps the choice made when last in it, else the
// profile name.
func (n *Node) JoinRoom(ctx context.Context, ref string, as *RoomNameChoice) (RoomInfo, error) {
	return n.rooms.JoinRoom(ctx, ref, as)
}

// RoomSetName changes the name we give ourselves in a joined room.
func (n *Node) RoomSetName(ctx context.Context, id room.ID, as RoomNameChoice) error {
	return n.rooms.RoomSetName(ctx, id, as)
}

// LeaveRoom unsubscribes from a room; its history stays in the store.
func (n *Node) LeaveRoom(id room.ID) error { return n.rooms.LeaveRoom(id) }

// Rooms lists the rooms this node knows, joined or not.
func (n *Node) Rooms() ([]RoomInfo, error) { return n.rooms.Rooms() }

// DiscoverRooms finds rooms by name through the DHT; each result is a
// verified, host-signed descriptor.
func (n *Node) DiscoverRooms(ctx context.Context, name string) ([]RoomInfo, error) {
	return n.rooms.DiscoverRooms(ctx, name)
}

// RoomSay sends a chat message.
func (n *Node) RoomSay(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	return n.rooms.RoomSay(ctx, id, text)
}

// RoomAsk asks the speakers a question.
func (n *Node) RoomAsk(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	return n.rooms.RoomAsk(ctx, id, text)
}

// RoomUpvote upvotes a question (once per peer, however often it is sent).
// A listener of a large room hands it to the host, which tallies it; the
// count shows once the host's tally arrives.
func (n *Node) RoomUpvote(ctx context.Context, id room.ID, question room.MessageID) error {
	return n.rooms.RoomUpvote(ctx, id, question)
}

// RoomAnswer marks a question answered (host or moderator).
func (n *Node) RoomAnswer(ctx context.Context, id room.ID, question room.MessageID) error {
	return n.rooms.RoomAnswer(ctx, id, question)
}

// RoomPin pins a message, or unpins with the zero ID (host or moderator).
func (n *Node) RoomPin(ctx context.Context, id room.ID, target room.MessageID) error {
	return n.rooms.RoomPin(ctx, id, target)
}

// RoomReact reacts to a message with an emoji, handed to the host of a
// large room as RoomUpvote's vote is.
func (n *Node) RoomReact(ctx context.Context, id room.ID, target room.MessageID, emoji string) error {
	return n.rooms.RoomReact(ctx, id, target, emoji)
}

// RoomHide hides a message for everyone (host or moderator).
func (n *Node) RoomHide(ctx context.Context, id room.ID, target room.MessageID) error {
	return n.rooms.RoomHide(ctx, id, target)
}

// RoomMute mutes a peer until a time at most a day away (host or moderator).
func (n *Node) RoomMute(ctx context.Context, id room.ID, p peer.ID, until time.Time) error {
	return n.rooms.RoomMute(ctx, id, p, until)
}

// RoomGrant gives p a role (speaker or moderator) for ttl: only the host can.
func (n *Node) RoomGrant(ctx context.Context, id room.ID, p peer.ID, role room.Role, ttl time.Duration) error {
	return n.rooms.RoomGrant(ctx, id, p, role, ttl)
}

// RoomPeople tells who is in a joined room, with their names and roles.
func (n *Node) RoomPeople(id room.ID) (RoomPeople, error) { return n.rooms.RoomPeople(id) }

// RoomChat returns the visible chat of a joined room, oldest first, each
// line with its sender as the room shows it.
func (n *Node) RoomChat(id room.ID, limit int) ([]RoomChatLine, error) {
	return n.rooms.RoomChat(id, limit)
}

// RoomQuestions returns a joined room's questions, most upvoted first.
func (n *Node) RoomQuestions(id room.ID) ([]RoomQuestionLine, error) {
	return n.rooms.RoomQuestions(id)
}

// RoomContext is the context a private question sent from room id carries.
func RoomContext(id room.ID) string { return rooms.RoomContext(id) }

// RoomFromContext returns the room a message context names, if it names one.
func RoomFromContext(context string) (room.ID, bool) { return rooms.RoomFromContext(context) }

// RoomAskSpeaker sends a private question to a speaker of a joined room: the
// host, a moderator or a peer with a current speaker grant. It is an ordinary
// end-to-end 1:1 message with the room as its context, so a speaker who has
// not accepted us finds it in their requests, marked with the room.
func (n *Node) RoomAskSpeaker(ctx context.Context, id room.ID, speaker peer.ID, text string) (storage.Message, error) {
	if err := n.rooms.CheckSpeaker(id, speaker); err != nil {
		return storage.Message{}, err
	}
	return n.Send(ctx, speaker, Outgoing{Body: text, Context: RoomContext(id)})
}
