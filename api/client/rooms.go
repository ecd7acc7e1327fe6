package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/backchannel/backchannel/api"
)

// roomPath is "/v1/rooms/<room>/<rest>" with room escaped; room is a room
// ID or the name of a room the node knows.
func roomPath(room, rest string) string {
	p := "/v1/rooms/" + url.PathEscape(room)
	if rest != "" {
		p += "/" + rest
	}
	return p
}

// Rooms lists the rooms the node created or joined.
func (c *Client) Rooms(ctx context.Context) ([]api.Room, error) {
	v, err := get[api.Rooms](ctx, c, "/v1/rooms")
	return v.Rooms, err
}

// CreateRoom creates a room the node hosts and joins it. A zero start
// announces none; a nil as takes the profile name.
func (c *Client) CreateRoom(ctx context.Context, name, description string, start time.Time, as *api.RoomNameChoice) (api.Room, error) {
	req := api.CreateRoomRequest{Name: name, Description: description, As: as}
	if !start.IsZero() {
		req.Start = &start
	}
	var v api.Room
	err := c.do(ctx, http.MethodPost, "/v1/rooms", req, &v)
	return v, err
}

// JoinRoom joins a room by its ID or its name, with the name as (nil: as
// chosen before, else the profile name).
func (c *Client) JoinRoom(ctx context.Context, ref string, as *api.RoomNameChoice) (api.Room, error) {
	var v api.Room
	err := c.do(ctx, http.MethodPost, "/v1/rooms/join", api.JoinRoomRequest{Ref: ref, As: as}, &v)
	return v, err
}

// RoomSetName changes the name we give ourselves in a joined room.
func (c *Client) RoomSetName(ctx context.Context, room string, as api.RoomNameChoice) error {
	return c.do(ctx, http.MethodPost, roomPath(room, "name"), as, nil)
}

// DiscoverRooms finds rooms by name.
func (c *Client) DiscoverRooms(ctx context.Context, name string) ([]api.Room, error) {
	v, err := get[api.Rooms](ctx, c, "/v1/rooms/discover?"+url.Values{"name": {name}}.Encode())
	return v.Rooms, err
}

// Room returns a room and, when joined, who is in it.
func (c *Client) Room(ctx context.Context, room string) (api.RoomDetail, error) {
	return get[api.RoomDetail](ctx, c, roomPath(room, ""))
}

// LeaveRoom leaves a room.
func (c *Client) LeaveRoom(ctx context.Context, room string) error {
	return c.do(ctx, http.MethodPost, roomPath(room, "leave"), nil, nil)
}

// RoomSay sends a chat line and returns its ID.
func (c *Client) RoomSay(ctx context.Context, room, text string) (string, error) {
	var v api.RoomPosted
	err := c.do(ctx, http.MethodPost, roomPath(room, "say"), api.RoomTextRequest{Text: text}, &v)
	return v.ID, err
}

// RoomAsk asks a question and returns its ID.
func (c *Client) RoomAsk(ctx context.Context, room, text string) (string, error) {
	var v api.RoomPosted
	err := c.do(ctx, http.MethodPost, roomPath(room, "ask"), api.RoomTextRequest{Text: text}, &v)
	return v.ID, err
}

// RoomChat returns up to limit of the latest chat lines, oldest first;
// limit 0 means the server's default.
func (c *Client) RoomChat(ctx context.Context, room string, limit int) ([]api.RoomChatLine, error) {
	path := roomPath(room, "chat")
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	v, err := get[api.RoomChat](ctx, c, path)
	return v.Messages, err
}

// RoomQuestions returns a room's questions, most upvoted first.
func (c *Client) RoomQuestions(ctx context.Context, room string) ([]api.RoomQuestion, error) {
	v, err := get[api.RoomQuestions](ctx, c, roomPath(room, "questions"))
	return v.Questions, err
}

// RoomUpvote upvotes a question.
func (c *Client) RoomUpvote(ctx context.Context, room, question string) error {
	return c.do(ctx, http.MethodPost, roomPath(room, "questions/"+url.PathEscape(question)+"/upvote"), nil, nil)
}

// RoomAnswer marks a question answered.
func (c *Client) RoomAnswer(ctx context.Context, room, question string) error {
	return c.do(ctx, http.MethodPost, roomPath(room, "questions/"+url.PathEscape(question)+"/answer"), nil, nil)
}

// RoomPin pins a message.
func (c *Client) RoomPin(ctx context.Context, room, msg string) error {
	return c.do(ctx, http.MethodPost, roomPath(room, "messages/"+url.PathEscape(msg)+"/pin"), nil, nil)
}

// RoomHide hides a message for everyone.
func (c *Client) RoomHide(ctx context.Context, room, msg string) error {
	return c.do(ctx, http.MethodPost, roomPath(room, "messages/"+url.PathEscape(msg)+"/hide"), nil, nil)
}

// RoomReact reacts to a message with an emoji.
func (c *Client) RoomReact(ctx context.Context, room, msg, emoji string) error {
	return c.do(ctx, http.MethodPost, roomPath(room, "messages/"+url.PathEscape(msg)+"/react"), api.RoomReactRequest{Emoji: emoji}, nil)
}

// RoomMute mutes a peer (a name or peer ID) in a room until a time.
func (c *Client) RoomMute(ctx context.Context, room, peer string, until time.Time) error {
	return c.do(ctx, http.MethodPost, roomPath(room, "mute"), api.RoomMuteRequest{Peer: peer, Until: until.UTC()}, nil)
}

// RoomAskSpeaker sends a private question to a speaker of a room; it is a
// 1:1 message whose context names the room.
func (c *Client) RoomAskSpeaker(ctx context.Context, room, peer, text string) (api.Message, error) {
	var v api.Message
	err := c.do(ctx, http.MethodPost, roomPath(room, "ask-speaker"), api.RoomAskSpeakerRequest{Peer: peer, Text: text}, &v)
	return v, err
}

// RoomGrant gives a peer a role ("speaker" or "moderator") for ttl, in
// whole seconds.
func (c *Client) RoomGrant(ctx context.Context, room, peer, role string, ttl time.Duration) error {
	req := api.RoomGrantRequest{Peer: peer, Role: role, TTLSeconds: int64(ttl / time.Second)}
	return c.do(ctx, http.MethodPost, roomPath(room, "grant"), req, nil)
}
