package api

import (
	"time"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
)

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

// RoomDetail is the body of GET /v1/rooms/{room}: the room and, when it is
// joined, the peer IDs of the speakers present (the host and those granted
// the speaker role).
type RoomDetail struct {
	Room
	Speakers []string `json:"speakers"`
}

// RoomReaction is one emoji's reactions to a room message: Count distinct
// peers. A message's reactions are by Count descending, then Emoji.
type RoomReaction struct {
	Emoji string `json:"emoji"`
	Count int    `json:"count"`
}

// RoomChatLine is one visible chat line of a room. ReplyTo is empty when
// the line replies to nothing.
type RoomChatLine struct {
	ID        string         `json:"id"`
	SenderID  string         `json:"sender_id"`
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
	Time      *time.Time     `json:"time,omitempty"`
	Text      string         `json:"text"`
	Upvotes   int            `json:"upvotes"`
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

// CreateRoomRequest is the body of POST /v1/rooms. Start is optional.
type CreateRoomRequest struct {
	Name        string     `json:"name"`
	Description string     `json:"description,omitempty"`
	Start       *time.Time `json:"start,omitempty"`
}

// JoinRoomRequest is the body of POST /v1/rooms/join: Ref is a room ID or
// a room's name (found through the DHT).
type JoinRoomRequest struct {
	Ref string `json:"ref"`
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

// Conversions from the node's room types.

func roomJSON(r node.RoomInfo) Room {
	return Room{
		ID:          r.ID.String(),
		Name:        r.Name,
		Description: r.Description,
		HostID:      r.Host.String(),
		Start:       optTime(r.Start),
		Joined:      r.Joined,
		Listeners:   r.Listeners,
	}
}

func roomsJSON(rs []node.RoomInfo) Rooms {
	out := Rooms{Rooms: make([]Room, 0, len(rs))}
	for _, r := range rs {
		out.Rooms = append(out.Rooms, roomJSON(r))
	}
	return out
}

func reactionsJSON(rs []roomstate.Reaction) []RoomReaction {
	out := make([]RoomReaction, 0, len(rs))
	for _, r := range rs {
		out = append(out, RoomReaction{Emoji: r.Emoji, Count: r.Count})
	}
	return out
}

func chatJSON(c roomstate.Chat) RoomChatLine {
	j := RoomChatLine{
		ID:        c.ID.String(),
		SenderID:  c.Sender.PeerID().String(),
		Time:      optTime(c.Timestamp),
		Text:      c.Text,
		Reactions: reactionsJSON(c.Reactions),
	}
	if c.ReplyTo != (room.MessageID{}) {
		j.ReplyTo = c.ReplyTo.String()
	}
	return j
}

func questionJSON(q roomstate.Question) RoomQuestion {
	return RoomQuestion{
		ID:        q.ID.String(),
		SenderID:  q.Sender.PeerID().String(),
		Time:      optTime(q.Timestamp),
		Text:      q.Text,
		Upvotes:   q.Upvotes,
		Answered:  q.Answered,
		Pinned:    q.Pinned,
		Reactions: reactionsJSON(q.Reactions),
	}
}

func roomEventJSON(e node.RoomEvent) *RoomEvent {
	return &RoomEvent{RoomID: e.Room.String(), MessageID: e.ID.String(), Kind: e.Kind.String()}
}
