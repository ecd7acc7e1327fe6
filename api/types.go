package api

import "time"

// The JSON bodies of the API. Field names are snake_case and stable: add
// fields, never rename or remove one. Times are RFC 3339 with nanoseconds,
// in UTC; a time that is not known is left out.

// Self is the body of GET /v1/id.
type Self struct {
	PeerID string   `json:"peer_id"`
	Name   string   `json:"name"`
	Addrs  []string `json:"addrs"`
	Invite string   `json:"invite"`
}

// Status is the body of GET /v1/status.
type Status struct {
	PeerID           string   `json:"peer_id"`
	ConnectedPeers   int      `json:"connected_peers"`
	DHTMode          string   `json:"dht_mode"`
	RoutingTableSize int      `json:"routing_table_size"`
	Reachability     string   `json:"reachability"`
	ListenAddrs      []string `json:"listen_addrs"`
	ObservedAddrs    []string `json:"observed_addrs"`
	Relays           []string `json:"relays"`
	Links            []Link   `json:"links"`
	OutboxPending    int      `json:"outbox_pending"`
	// Refused counts connections refused for an address outside loopback
	// and the allowed ranges (--allow-net).
	Refused int64 `json:"refused_connections"`
	// Topics are the GossipSub topics the node has joined: its live rooms
	// and groups.
	Topics []TopicStatus `json:"topics"`
}

// TopicStatus is one joined GossipSub topic. Kind is "room" (Name is the
// room's ID), "group" (Name is the group's name) or "other" (Name is the
// topic's). Peers counts the peers subscribed to it, MeshPeers those the
// node forwards its messages to; LowestScores are the lowest GossipSub
// scores among its peers, lowest first, at most three (below -80 a peer is
// graylisted: its messages are dropped unread).
type TopicStatus struct {
	Kind         string      `json:"kind"`
	Name         string      `json:"name"`
	Peers        int         `json:"peers"`
	MeshPeers    int         `json:"mesh_peers"`
	LowestScores []PeerScore `json:"lowest_scores"`
}

// PeerScore is a peer's GossipSub score.
type PeerScore struct {
	PeerID string  `json:"peer_id"`
	Score  float64 `json:"score"`
}

// Link is how the node is connected to one contact: Kind is "direct" or
// "relayed" (through a helper's relay).
type Link struct {
	PeerID string `json:"peer_id"`
	Name   string `json:"name"`
	Kind   string `json:"kind"`
	// HolePunched: the link began relayed and a hole punch made it direct.
	HolePunched bool `json:"hole_punched"`
}

// Contact is one contact. State is ContactPending (a stranger whose
// request is not accepted), "accepted" or "blocked".
type Contact struct {
	PeerID      string     `json:"peer_id"`
	State       string     `json:"state"`
	Name        string     `json:"name"`
	ProfileName string     `json:"profile_name"`
	Addrs       []string   `json:"addrs"`
	Verified    bool       `json:"verified"`
	Origin      string     `json:"origin,omitempty"`
	Created     *time.Time `json:"created,omitempty"`
	Updated     *time.Time `json:"updated,omitempty"`
}

// Contacts is the body of GET /v1/contacts.
type Contacts struct {
	Contacts []Contact `json:"contacts"`
}

// Message is one 1:1 message. Direction is "inbound" or "outbound"; State
// is "queued", "sent", "in_mailbox" (held by the recipient's mailbox until
// the recipient comes online), "delivered" or "read" for outbound messages,
// in that order, and "received" or "seen" for inbound ones. ReplyTo is
// empty when the message replies to nothing.
type Message struct {
	ID        string     `json:"id"`
	PeerID    string     `json:"peer_id"`
	Direction string     `json:"direction"`
	Kind      string     `json:"kind"`
	Text      string     `json:"text"`
	ReplyTo   string     `json:"reply_to,omitempty"`
	Sent      *time.Time `json:"sent,omitempty"`
	Received  *time.Time `json:"received,omitempty"`
	State     string     `json:"state"`
	// Context says where the sender wrote from: "room:<id>" for a private
	// question from a room. Empty otherwise.
	Context string `json:"context,omitempty"`
}

// Messages is the body of GET /v1/conversations/{peer}/messages: newest
// first.
type Messages struct {
	Messages []Message `json:"messages"`
}

// Conversation summarises the thread with one peer. Name is the contact's
// local name, else the name the peer gave itself, else empty.
type Conversation struct {
	PeerID  string     `json:"peer_id"`
	Name    string     `json:"name"`
	Last    Message    `json:"last"`
	Count   int        `json:"count"`
	Unread  int        `json:"unread"`
	Updated *time.Time `json:"updated,omitempty"`
	// Origin is the context a request came with, e.g. "room:<id>"; see
	// Contact.Origin.
	Origin string `json:"origin,omitempty"`
}

// Conversations is the body of GET /v1/inbox and GET /v1/requests: newest
// first.
type Conversations struct {
	Conversations []Conversation `json:"conversations"`
}

// SafetyNumber is the body of GET /v1/contacts/{peer}/safety-number.
type SafetyNumber struct {
	PeerID       string `json:"peer_id"`
	SafetyNumber string `json:"safety_number"`
	Verified     bool   `json:"verified"`
}

// Event is one message of the GET /v1/events WebSocket stream. Type is
// "message" (a new message, in Message), "message_state" (Message with its
// new state), "request" (a stranger's first message, in Message),
// "contact" (a contact changed, in Contact), "typing" (Typing says
// whether the peer is typing), "room_message" (a live-room message was
// stored, in Room), or one of the group events (in Group; see GroupEvent).
type Event struct {
	Type    string      `json:"type"`
	PeerID  string      `json:"peer_id,omitempty"`
	Message *Message    `json:"message,omitempty"`
	Contact *Contact    `json:"contact,omitempty"`
	Room    *RoomEvent  `json:"room,omitempty"`
	Group   *GroupEvent `json:"group,omitempty"`
	Typing  bool        `json:"typing,omitempty"`
	Time    *time.Time  `json:"time,omitempty"`
}

// Health is the body of GET /v1/health.
type Health struct {
	Status string `json:"status"`
}

// LoginLink is the body of POST /v1/login-links: a link that opens the web
// UI with a new session, once, until Expires.
type LoginLink struct {
	URL     string    `json:"url"`
	Expires time.Time `json:"expires"`
}

// Error is the body of every error response. Code is one of the Code*
// constants.
type Error struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// Request bodies.

// AddContactRequest is the body of POST /v1/contacts. Invite is an invite
// link or a bare peer ID; Name is our local name for the peer.
type AddContactRequest struct {
	Invite string `json:"invite"`
	Name   string `json:"name,omitempty"`
}

// VerifyRequest is the body of POST /v1/contacts/{peer}/verify. An empty
// body marks the contact verified.
type VerifyRequest struct {
	Verified *bool `json:"verified,omitempty"`
}

// SendRequest is the body of POST /v1/messages. To is a peer ID or a
// contact's name. Kind is "text" (the default; "reply" when ReplyTo is
// set) or "reaction". ReplyTo is the hex ID of the message replied or
// reacted to.
type SendRequest struct {
	To      string `json:"to"`
	Text    string `json:"text"`
	Kind    string `json:"kind,omitempty"`
	ReplyTo string `json:"reply_to,omitempty"`
	// Key, chosen by the client (at most 64 bytes), makes the send
	// idempotent: sent again with the same key (after a lost answer), it
	// returns the message the first one stored instead of a second one.
	Key string `json:"key,omitempty"`
}

// TypingRequest is the body of POST /v1/conversations/{peer}/typing.
type TypingRequest struct {
	Typing bool `json:"typing"`
}

// InviteRequest is the body of POST /v1/invites.
type InviteRequest struct {
	// OneTime asks for a link with a one-time token: its first user may write
	// without the proof-of-work stamp asked of strangers.
	OneTime bool `json:"one_time"`
}

// InviteResponse is the body of POST /v1/invites.
type InviteResponse struct {
	Invite string `json:"invite"`
}

// ProfileRequest is the body of PUT /v1/profile.
type ProfileRequest struct {
	Name string `json:"name"`
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// ContactPending is the state of a stranger whose request is not accepted.
const ContactPending = "pending"
