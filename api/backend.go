package api

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/room"
)

// Backend is what the API serves, one narrow interface per concern: a
// handler uses only the one it needs. The daemon fills it from a node (see
// package api/nodeapi), tests from a fake (package api/apitest). The
// interfaces speak this package's types; their errors wrap this package's
// Err* sentinels, which decide the HTTP status and code.
type Backend struct {
	Identity  IdentityBackend
	Contacts  ContactBackend
	Chats     ChatBackend
	Rooms     RoomBackend
	Groups    GroupBackend
	Mailboxes MailboxBackend
	Events    EventBackend
}

// IdentityBackend is who this node is: its address, invite and profile.
type IdentityBackend interface {
	Self() Self
	NewInvite(oneTime bool) (string, error)
	Status() Status
	SetProfileName(name string) error
}

// ContactBackend keeps the address book: contacts, strangers, blocks and
// verification.
type ContactBackend interface {
	AddContact(ctx context.Context, invite string, name string) (Contact, error)
	// Contacts lists every contact, sorted by name, then peer ID.
	Contacts() ([]Contact, error)
	Block(p peer.ID) error
	Unblock(p peer.ID) error
	SafetyNumber(p peer.ID) (string, error)
	SetVerified(p peer.ID, verified bool) error
}

// Outgoing is a 1:1 message to send. Kind is "text", "reply" or
// "reaction"; ReplyTo names the message replied or reacted to (zero: none).
type Outgoing struct {
	Kind    string
	Body    string
	ReplyTo [16]byte
	// Key makes the send idempotent: a retry with the same key returns
	// the first send's message (see SendRequest.Key).
	Key string
}

// ChatBackend is 1:1 messaging: the inbox, the requests and the threads.
// A Conversation it returns leaves Name and Origin to the API, which takes
// them from the contacts.
type ChatBackend interface {
	Send(ctx context.Context, to peer.ID, m Outgoing) (Message, error)
	Inbox() ([]Conversation, error)
	Requests() ([]Conversation, error)
	// Messages returns up to limit messages sent before before (zero: any
	// time), newest first.
	Messages(p peer.ID, limit int, before time.Time) ([]Message, error)
	MarkRead(p peer.ID) error
	Typing(p peer.ID, typing bool) error
	Accept(ctx context.Context, p peer.ID) error
	Decline(p peer.ID) error
	// Pending lists our messages still waiting to be delivered; Cancel
	// stops trying one (it shows failed; ErrNotFound if not waiting).
	Pending() ([]Message, error)
	Cancel(id [16]byte) (Message, error)
}

// RoomBackend is live rooms.
type RoomBackend interface {
	// CreateRoom makes a room we host and joins it with the name as (nil:
	// the profile name).
	CreateRoom(ctx context.Context, name, description string, start time.Time, as *RoomNameChoice) (Room, error)
	// JoinRoom joins a room by ID or by name, looked up in the DHT, with
	// the name as (nil: as chosen before, else the profile name).
	JoinRoom(ctx context.Context, ref string, as *RoomNameChoice) (Room, error)
	// RoomSetName changes our name in a joined room.
	RoomSetName(ctx context.Context, id room.ID, as RoomNameChoice) error
	LeaveRoom(id room.ID) error
	// Rooms lists the rooms created or joined, by name.
	Rooms() ([]Room, error)
	DiscoverRooms(ctx context.Context, name string) ([]Room, error)
	RoomSay(ctx context.Context, id room.ID, text string) (room.MessageID, error)
	RoomAsk(ctx context.Context, id room.ID, text string) (room.MessageID, error)
	RoomUpvote(ctx context.Context, id room.ID, question room.MessageID) error
	RoomAnswer(ctx context.Context, id room.ID, question room.MessageID) error
	RoomPin(ctx context.Context, id room.ID, target room.MessageID) error
	RoomReact(ctx context.Context, id room.ID, target room.MessageID, emoji string) error
	RoomHide(ctx context.Context, id room.ID, target room.MessageID) error
	RoomMute(ctx context.Context, id room.ID, p peer.ID, until time.Time) error
	RoomGrant(ctx context.Context, id room.ID, p peer.ID, role room.Role, ttl time.Duration) error
	// RoomPeople tells who is in a joined room: RoomDetail's fields past
	// Room (the caller fills Room).
	RoomPeople(id room.ID) (RoomDetail, error)
	// RoomChat returns the last limit visible chat lines, oldest first.
	RoomChat(id room.ID, limit int) ([]RoomChatLine, error)
	// RoomQuestions returns the visible questions, most upvoted first.
	RoomQuestions(id room.ID) ([]RoomQuestion, error)
	RoomAskSpeaker(ctx context.Context, id room.ID, speaker peer.ID, text string) (Message, error)
}

// GroupOutgoing is a group message to send; see GroupSendRequest. ReplyTo
// is zero when the message replies to nothing; Start is an event's start.
type GroupOutgoing struct {
	Kind    string
	Body    string
	ReplyTo [32]byte
	Start   time.Time
}

// GroupBackend is private groups.
type GroupBackend interface {
	CreateGroup(ctx context.Context, name string) (Group, error)
	// Groups lists every group this node knows (invited, joined, left), by
	// name.
	Groups() ([]Group, error)
	Group(id group.ID) (Group, error)
	// GroupMembers lists the newest roster, owner first.
	GroupMembers(id group.ID) ([]GroupMember, error)
	InviteToGroup(ctx context.Context, id group.ID, peers ...peer.ID) error
	AcceptGroupInvite(ctx context.Context, id group.ID) (Group, error)
	DeclineGroupInvite(id group.ID) error
	LeaveGroup(ctx context.Context, id group.ID) error
	RenameGroup(ctx context.Context, id group.ID, name string) error
	RemoveGroupMember(ctx context.Context, id group.ID, p peer.ID) error
	GrantGroupAdmin(ctx context.Context, id group.ID, p peer.ID, admin bool) error
	Rekey(ctx context.Context, id group.ID) error
	GroupSend(ctx context.Context, id group.ID, m GroupOutgoing) (GroupMessage, error)
	// GroupMessages returns up to limit lines sent before before (zero:
	// any time), newest first.
	GroupMessages(id group.ID, limit int, before time.Time) ([]GroupMessage, error)
	MarkGroupRead(id group.ID) error
	// GroupChanges lists the roster changes of the epochs this node holds,
	// oldest first; epochs that changed no one are left out.
	GroupChanges(id group.ID) ([]GroupChange, error)
}

// MailboxBackend is mailboxes: the peers we appoint to hold our 1:1 mail
// while we are offline, the mailboxes our contacts told us of, and what
// this node holds for others (counts only: the items are sealed to their
// recipients).
type MailboxBackend interface {
	// AppointMailbox asks mb to hold our mail for d (zero: the node's
	// default, 90 days), or renews its appointment.
	AppointMailbox(ctx context.Context, mb peer.ID, d time.Duration) (Mailbox, error)
	// RevokeMailbox ends mb's appointment after draining it; ErrNotFound
	// when mb is not one of ours.
	RevokeMailbox(ctx context.Context, mb peer.ID) error
	// Mailboxes lists the mailboxes we appointed.
	Mailboxes() ([]Mailbox, error)
	// MailboxesOf lists the mailboxes p told us of that are still valid.
	MailboxesOf(p peer.ID) ([]KnownMailbox, error)
	// DrainMailboxes takes what our mailboxes hold for us now.
	DrainMailboxes(ctx context.Context) error
	// MailboxHeld lists what this node holds as a mailbox, per recipient.
	MailboxHeld() ([]MailboxHeld, error)
	// SetMailboxServeContacts says whether we hold mail for accepted
	// contacts that appoint us.
	SetMailboxServeContacts(on bool) error
	MailboxServing() (MailboxServing, error)
}

// EventBackend is the node's event stream.
type EventBackend interface {
	// Subscribe returns a stream of events until cancel is called. cancel
	// must be safe to call more than once.
	Subscribe() (events <-chan Event, cancel func())
}

// missing names the first field of b that is nil, or returns "".
func (b Backend) missing() string {
	for _, f := range []struct {
		name string
		nil  bool
	}{
		{"Identity", b.Identity == nil}, {"Contacts", b.Contacts == nil}, {"Chats", b.Chats == nil},
		{"Rooms", b.Rooms == nil}, {"Groups", b.Groups == nil}, {"Mailboxes", b.Mailboxes == nil},
		{"Events", b.Events == nil},
	} {
		if f.nil {
			return f.name
		}
	}
	return ""
}
