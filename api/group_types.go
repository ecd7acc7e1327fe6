package api

import "time"

// The JSON bodies of the private-group endpoints, stable like the others. A
// group ID and a group message ID are 64 hex digits.

// Group is one group this node knows. State is "invited", "joined",
// "left", "removed" or "declined"; Role is this node's role in the newest
// epoch ("owner", "admin", "member", or "none" once out); KeyPending says
// that the newest epoch's key has not arrived yet (sending waits for it).
// Last, only in GET /v1/groups, is the newest text, reply or event, left
// out when there is none.
type Group struct {
	ID          string        `json:"id"`
	Name        string        `json:"name"`
	State       string        `json:"state"`
	Epoch       uint64        `json:"epoch"`
	Role        string        `json:"role"`
	MemberCount int           `json:"member_count"`
	InviterID   string        `json:"inviter_id,omitempty"`
	Unread      int           `json:"unread"`
	KeyPending  bool          `json:"key_pending"`
	Last        *GroupMessage `json:"last,omitempty"`
}

// Groups is the body of GET /v1/groups.
type Groups struct {
	Groups []Group `json:"groups"`
}

// GroupMember is one member of a group's newest roster, or the author of a
// group message, as this node shows it (by the rule rooms follow too).
// Name is the profile name the member announced in the group (ours, for
// us), left out if none: members tell each other their names inside the
// group, and anyone can announce any name. Display is what to show: "you"
// for us; an accepted contact's name as we know it (else its profile
// name); else Name, followed by " (…" and the last 8 characters of the
// peer ID ")" when another member, a contact or we ourselves use the same
// name (case aside); else "…" and the last 8 characters of the peer ID.
// Role is the member's role in the newest epoch ("owner", "admin",
// "member"; "none" for an author who is no longer a member). Contact: an
// accepted contact; Verified: its safety number was checked; Me: this node.
type GroupMember struct {
	PeerID   string `json:"peer_id"`
	Role     string `json:"role"`
	Name     string `json:"name,omitempty"`
	Display  string `json:"display"`
	Contact  bool   `json:"contact"`
	Verified bool   `json:"verified"`
	Me       bool   `json:"me"`
}

// GroupDetail is the body of GET /v1/groups/{group}: the group and its
// members, owner first.
type GroupDetail struct {
	Group
	Members []GroupMember `json:"members"`
}

// GroupReaction is one member's reaction to a group message.
type GroupReaction struct {
	PeerID string `json:"peer_id"`
	Emoji  string `json:"emoji"`
}

// GroupRSVP is one member's answer to an event: "yes", "no" or "maybe".
type GroupRSVP struct {
	PeerID string `json:"peer_id"`
	Answer string `json:"answer"`
}

// GroupMessage is one line of a group's thread. Sender is its author as
// this node shows it now (see GroupMember). Kind is "text", "reply",
// "event" (Text is its title, Start its start), "rename" (Text is the new
// name) or "left" (the sender left). DeliveredTo and ReadBy list the
// members other than the sender known to have received and read it.
type GroupMessage struct {
	ID          string          `json:"id"`
	SenderID    string          `json:"sender_id"`
	Sender      GroupMember     `json:"sender"`
	Kind        string          `json:"kind"`
	Text        string          `json:"text"`
	ReplyTo     string          `json:"reply_to,omitempty"`
	Start       *time.Time      `json:"start,omitempty"`
	Time        *time.Time      `json:"time,omitempty"`
	Epoch       uint64          `json:"epoch"`
	Outbound    bool            `json:"outbound"`
	Reactions   []GroupReaction `json:"reactions"`
	RSVPs       []GroupRSVP     `json:"rsvps"`
	DeliveredTo []string        `json:"delivered_to"`
	ReadBy      []string        `json:"read_by"`
}

// GroupMessages is the body of GET /v1/groups/{group}/messages: newest
// first.
type GroupMessages struct {
	Messages []GroupMessage `json:"messages"`
}

// GroupChange is one epoch's change of the roster (see GET
// /v1/groups/{group}/changes): who was added, who is gone (removed, or
// left), who became an admin and who stopped being one; SignerID signed
// the new roster. A message belongs after the changes of epochs up to
// its own.
type GroupChange struct {
	Epoch    uint64   `json:"epoch"`
	SignerID string   `json:"signer_id"`
	Added    []string `json:"added"`
	Removed  []string `json:"removed"`
	Admins   []string `json:"admins"`
	NotAdmin []string `json:"not_admin"`
}

// GroupChanges is the body of GET /v1/groups/{group}/changes: oldest
// first.
type GroupChanges struct {
	Changes []GroupChange `json:"changes"`
}

// GroupEvent is the "group" field of the group events: "group_message" (a
// message, reaction or RSVP of Kind was stored: MessageID), "group_invite"
// (an invitation arrived), "group_member" (the roster or our State in the
// group changed; with Kind "profile", MemberID announced a new name),
// "group_epoch" (this node holds the key of Epoch) and "group_receipt"
// (MemberID told how far it has read).
type GroupEvent struct {
	GroupID   string `json:"group_id"`
	Epoch     uint64 `json:"epoch"`
	MessageID string `json:"message_id,omitempty"`
	Kind      string `json:"kind,omitempty"`
	MemberID  string `json:"member_id,omitempty"`
	State     string `json:"state,omitempty"`
}

// Request bodies of the group endpoints.

// CreateGroupRequest is the body of POST /v1/groups.
type CreateGroupRequest struct {
	Name string `json:"name"`
}

// GroupPeersRequest is the body of POST /v1/groups/{group}/members: the
// peers (IDs or contacts' names) to invite, all in one new epoch.
type GroupPeersRequest struct {
	Peers []string `json:"peers"`
}

// GroupAdminRequest is the body of POST /v1/groups/{group}/members/{peer}/admin:
// Admin true makes the member an admin, false a plain member again.
type GroupAdminRequest struct {
	Admin bool `json:"admin"`
}

// GroupRenameRequest is the body of POST /v1/groups/{group}/rename.
type GroupRenameRequest struct {
	Name string `json:"name"`
}

// GroupSendRequest is the body of POST /v1/groups/{group}/messages. Kind is
// "text" (the default; "reply" with ReplyTo), "reaction" (Text is the
// emoji, ReplyTo the message), "event" (Text is the title; Start is
// required) or "rsvp" (Text is "yes", "no" or "maybe"; ReplyTo the event).
type GroupSendRequest struct {
	Kind    string     `json:"kind,omitempty"`
	Text    string     `json:"text"`
	ReplyTo string     `json:"reply_to,omitempty"`
	Start   *time.Time `json:"start,omitempty"`
}
