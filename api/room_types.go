package api

import "time"

// The JSON bodies of the live-room endpoints, stable like the others. A
// room ID is 52 base32 letters and digits; a room message ID is 64 hex
// digits.

// Room is one room this node knows. Listeners counts the peers present
// other than the speakers, and is 0 for a room not joined. Start is the
// announced start, if the host gave one.
type Room struct {
	ID          string     `json:"id"`
	Name        string     `json:"name"`
	Description string     `json:"description"`
	HostID      string     `json:"host_id"`
	Start       *time.Time `json:"start,omitempty"`
	Joined      bool       `json:"joined"`
	Listeners   int        `json:"listeners"`
}

// Rooms is the body of GET /v1/rooms and GET /v1/rooms/discover.
type Rooms struct {
	Rooms []Room `json:"rooms"`
}

// RoomPerson is how a room shows a peer. Name is the name the peer signed
// in the room (in the line shown, or in its latest presence), empty if it
// gave none: anyone can claim any name. Display is what to show: an
// accepted contact's name as we know it; else Name, followed by the end of
// the peer ID when another key in the room, a contact or we ourselves use
// the same name; else the end of the peer ID. Role is the peer's role now:
// "host", "moderator", "speaker" or "listener". Contact: an accepted
// contact; Verified: its safety number was checked; Me: this node.
type RoomPerson struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Display  string `json:"display"`
	Role     string `json:"role"`
	Contact  bool   `json:"contact"`
	Verified bool   `json:"verified"`
	Me       bool   `json:"me"`
}

// RoomNameChoice is the name this node gives itself in a room: with
// UseProfile its profile name, as it changes; else Name, chosen for the
// room, or no name at all when Name is empty (the room sees the peer ID
// only). Name follows the profile name's rule: at most 64 bytes, no
// control character.
type RoomNameChoice struct {
	UseProfile bool   `json:"use_profile"`
	Name       string `json:"name"`
}

// RoomDetail is the body of GET /v1/rooms/{room}: the room and, when it is
// joined, the peer IDs of the speakers present (the host and those granted
// the speaker role), the people present (People: host first, then
// moderators, speakers and listeners, at most 200; PeopleMore counts the
// rest), our choice of name in the room (As) and the name it gives now
// (MyName, empty for none).
type RoomDetail struct {
	Room
	Speakers   []string        `json:"speakers"`
	People     []RoomPerson    `json:"people"`
	PeopleMore int             `json:"people_more"`
	As         *RoomNameChoice `json:"as,omitempty"`
	MyName     string          `json:"my_name"`
}

// RoomReaction is one emoji's reactions to a room message: Count distinct
// peers. A message's reactions are by Count descending, then Emoji.
type RoomReaction struct {
	Emoji string `json:"emoji"`
	Count int    `json:"count"`
	Mine  bool   `json:"mine"` // one of them is ours
}

// RoomChatLine is one visible chat line of a room. ReplyTo is empty when
// the line replies to nothing.
type RoomChatLine struct {
	ID        string         `json:"id"`
	SenderID  string         `json:"sender_id"`
	Sender    RoomPerson     `json:"sender"`
	Time      *time.Time     `json:"time,omitempty"`
	Text      string         `json:"text"`
	ReplyTo   string         `json:"reply_to,omitempty"`
	Reactions []RoomReaction `json:"reactions"`
}

// RoomChat is the body of GET /v1/rooms/{room}/chat: oldest first.
type RoomChat struct {
	Messages []RoomChatLine `json:"messages"`
}

// RoomQuestion is one visible question of a room's Q&A queue.
type RoomQuestion struct {
	ID        string         `json:"id"`
	SenderID  string         `json:"sender_id"`
	Sender    RoomPerson     `json:"sender"`
	Time      *time.Time     `json:"time,omitempty"`
	Text      string         `json:"text"`
	Upvotes   int            `json:"upvotes"`
	Upvoted   bool           `json:"upvoted"` // we upvoted it
	Answered  bool           `json:"answered"`
	Pinned    bool           `json:"pinned"`
	Reactions []RoomReaction `json:"reactions"`
}

// RoomQuestions is the body of GET /v1/rooms/{room}/questions: most
// upvoted first, then oldest first.
type RoomQuestions struct {
	Questions []RoomQuestion `json:"questions"`
}

// RoomEvent is the "room" field of a "room_message" Event: a message of
// Kind ("chat", "question", "upvote", "answered", "pin", "reaction",
// "presence", "role-grant", "hide" or "mute") was stored in a room.
type RoomEvent struct {
	RoomID    string `json:"room_id"`
	MessageID string `json:"message_id"`
	Kind      string `json:"kind"`
}

// RoomPosted is the answer to POST /v1/rooms/{room}/say and /ask: the new
// message's ID.
type RoomPosted struct {
	ID string `json:"id"`
}

// Request bodies of the room endpoints.

// CreateRoomRequest is the body of POST /v1/rooms. Start is optional; As
// is our name in the room (the profile name when absent).
type CreateRoomRequest struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Start       *time.Time      `json:"start,omitempty"`
	As          *RoomNameChoice `json:"as,omitempty"`
}

// JoinRoomRequest is the body of POST /v1/rooms/join: Ref is a room ID or
// a room's name (found through the DHT). As is our name in the room; when
// absent, the one chosen when we were last in it, else the profile name.
type JoinRoomRequest struct {
	Ref string          `json:"ref"`
	As  *RoomNameChoice `json:"as,omitempty"`
}

// RoomTextRequest is the body of POST /v1/rooms/{room}/say and /ask.
type RoomTextRequest struct {
	Text string `json:"text"`
}

// RoomReactRequest is the body of POST /v1/rooms/{room}/messages/{msg}/react.
type RoomReactRequest struct {
	Emoji string `json:"emoji"`
}

// RoomAskSpeakerRequest is the body of POST /v1/rooms/{room}/ask-speaker:
// a private question to Peer, a speaker of the room. The answer is the 1:1
// Message, whose context names the room.
type RoomAskSpeakerRequest struct {
	Peer string `json:"peer"`
	Text string `json:"text"`
}

// RoomMuteRequest is the body of POST /v1/rooms/{room}/mute: Peer (a peer
// ID or a contact's name) may not post until Until, at most a day away.
type RoomMuteRequest struct {
	Peer  string    `json:"peer"`
	Until time.Time `json:"until"`
}

// RoomGrantRequest is the body of POST /v1/rooms/{room}/grant: Peer gets
// Role ("speaker" or "moderator") for TTLSeconds (at most 30 days).
type RoomGrantRequest struct {
	Peer       string `json:"peer"`
	Role       string `json:"role"`
	TTLSeconds int64  `json:"ttl_seconds"`
}
