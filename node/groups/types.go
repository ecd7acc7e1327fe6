package groups

import (
	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/groups/content"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Group message kinds, as stored and shown. Reactions and RSVPs are not
// lines of the thread: they hang on their target (Message.Reactions,
// Message.RSVPs).
const (
	KindText     = content.KindText     // a text (the 1:1 kind of the same name)
	KindReply    = content.KindReply    // a text replying to another message
	KindReaction = content.KindReaction // an emoji on another message
	KindEvent    = content.KindEvent    // an event with a title and a start time; members RSVP
	KindRSVP     = content.KindRSVP     // yes, no or maybe to an event
	KindRename   = content.KindRename   // an owner or admin renamed the group
	KindLeft     = content.KindLeft     // a member left the group
)

// RSVP answers.
const (
	RSVPYes   = content.RSVPYes
	RSVPNo    = content.RSVPNo
	RSVPMaybe = content.RSVPMaybe
)

// Info describes a group to the user.
type Info struct {
	ID        group.ID
	Name      string
	State     storage.GroupState
	Epoch     uint64     // the newest epoch this node knows
	Role      group.Role // this node's role in that epoch
	Members   int
	Inviter   peer.ID // who invited this node; empty for the group's creator
	Unread    int
	KeyWaited bool // the newest epoch's key has not arrived yet
}

// Member is one member of a group's newest roster.
type Member struct {
	Peer peer.ID
	Role group.Role
	Name string // the contact's name or profile name, if a contact
}

// Outgoing is a group message the user sends.
type Outgoing = content.Outgoing

// Message is a group message as the user sees it, with the reactions
// and RSVPs on it and which members have received and read it.
type Message struct {
	storage.GroupMessage
	Reactions   []Reaction
	RSVPs       []RSVP
	DeliveredTo []peer.ID // members (other than the author) who received it
	ReadBy      []peer.ID // members (other than the author) who read it
}

// Reaction is one member's reaction.
type Reaction struct {
	Peer  peer.ID
	Emoji string
}

// RSVP is one member's answer to an event.
type RSVP struct {
	Peer   peer.ID
	Answer string
}

// KindGroupInvite is the kind of the message an invitation leaves in the
// inviter's 1:1 thread (in the inbox, or in requests if the inviter is a
// stranger); its body is the group's name.
const KindGroupInvite = "group_invite"
