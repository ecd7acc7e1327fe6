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
	// KindProfile is a member telling the group its profile name: no line
	// of the thread, only the Kind of the GroupMember event when a
	// member's name changed.
	KindProfile = content.KindProfile
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

// Member is one member of a group's newest roster, or the author of a
// message, as this node shows it: by the rule rooms use too
// (node/internal/naming), we are "you", an accepted contact goes by our
// name for them, anyone else by the name it announced in the group, marked
// with the end of its peer ID when a member, a contact or we go by the same
// name, else by the end of its peer ID.
type Member struct {
	Peer peer.ID
	// Role is its role in the newest roster: RoleNone for an author who is
	// no longer a member.
	Role group.Role
	// Name is the profile name it announced in the group (ours, for us),
	// empty if none; names of former members are not kept.
	Name string
	// Display is what to show.
	Display string
	// Contact: an accepted contact; Verified: its safety number was checked.
	Contact, Verified bool
	// Me: this node.
	Me bool
}

// Outgoing is a group message the user sends.
type Outgoing = content.Outgoing

// Message is a group message as the user sees it, with the reactions
// and RSVPs on it and which members have received and read it.
type Message struct {
	storage.GroupMessage
	From        Member // the author, as shown
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
