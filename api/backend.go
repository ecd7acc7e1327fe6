package api

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// Backend is what the API serves: *node.Node in the daemon, a fake in tests
// (see package apitest).
type Backend interface {
	Self() node.SelfInfo
	NewInvite(oneTime bool) (string, error)
	Status() node.Status
	SetProfileName(name string) error

	AddContact(ctx context.Context, invite string, name string) (storage.Contact, error)
	Contacts() ([]storage.Contact, error)
	ResolvePeer(nameOrID string) (peer.ID, error)
	Block(p peer.ID) error
	Unblock(p peer.ID) error
	SafetyNumber(p peer.ID) (string, error)
	SetVerified(p peer.ID, verified bool) error

	Send(ctx context.Context, to peer.ID, m node.Outgoing) (storage.Message, error)
	Inbox() ([]storage.Conversation, error)
	Requests() ([]storage.Conversation, error)
	Messages(p peer.ID, limit int, before time.Time) ([]storage.Message, error)
	MarkRead(p peer.ID) error
	Typing(p peer.ID, typing bool) error
	Accept(ctx context.Context, p peer.ID) error
	Decline(p peer.ID) error

	CreateRoom(ctx context.Context, name, description string, start time.Time) (node.RoomInfo, error)
	JoinRoom(ctx context.Context, ref string) (node.RoomInfo, error)
	LeaveRoom(id room.ID) error
	Rooms() ([]node.RoomInfo, error)
	DiscoverRooms(ctx context.Context, name string) ([]node.RoomInfo, error)
	RoomSay(ctx context.Context, id room.ID, text string) (room.MessageID, error)
	RoomAsk(ctx context.Context, id room.ID, text string) (room.MessageID, error)
	RoomUpvote(ctx context.Context, id room.ID, question room.MessageID) error
	RoomAnswer(ctx context.Context, id room.ID, question room.MessageID) error
	RoomPin(ctx context.Context, id room.ID, target room.MessageID) error
	RoomReact(ctx context.Context, id room.ID, target room.MessageID, emoji string) error
	RoomHide(ctx context.Context, id room.ID, target room.MessageID) error
	RoomMute(ctx context.Context, id room.ID, p peer.ID, until time.Time) error
	RoomGrant(ctx context.Context, id room.ID, p peer.ID, role room.Role, ttl time.Duration) error
	RoomWho(id room.ID) (listeners int, speakers []peer.ID, err error)
	RoomChat(id room.ID, limit int) ([]roomstate.Chat, error)
	RoomQuestions(id room.ID) ([]roomstate.Question, error)
	RoomAskSpeaker(ctx context.Context, id room.ID, speaker peer.ID, text string) (storage.Message, error)

	CreateGroup(ctx context.Context, name string) (node.GroupInfo, error)
	Groups() ([]node.GroupInfo, error)
	Group(id group.ID) (node.GroupInfo, error)
	ResolveGroup(ref string) (group.ID, error)
	GroupMembers(id group.ID) ([]node.GroupMember, error)
	InviteToGroup(ctx context.Context, id group.ID, peers ...peer.ID) error
	AcceptGroupInvite(ctx context.Context, id group.ID) (node.GroupInfo, error)
	DeclineGroupInvite(id group.ID) error
	LeaveGroup(ctx context.Context, id group.ID) error
	RenameGroup(ctx context.Context, id group.ID, name string) error
	RemoveGroupMember(ctx context.Context, id group.ID, p peer.ID) error
	GrantGroupAdmin(ctx context.Context, id group.ID, p peer.ID, admin bool) error
	Rekey(ctx context.Context, id group.ID) error
	GroupSend(ctx context.Context, id group.ID, m node.GroupOutgoing) (node.GroupMessage, error)
	GroupMessages(id group.ID, limit int, before time.Time) ([]node.GroupMessage, error)
	MarkGroupRead(id group.ID) error

	// Subscribe returns a stream of events until cancel is called. cancel
	// must be safe to call more than once.
	Subscribe() (events <-chan node.Event, cancel func())
}
