package nodeapi

import (
	"context"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
)

// Live rooms.

func (a adapter) CreateRoom(ctx context.Context, name, description string, start time.Time) (api.Room, error) {
	info, err := a.n.CreateRoom(ctx, name, description, start)
	return one(info, err, roomJSON)
}

func (a adapter) JoinRoom(ctx context.Context, ref string) (api.Room, error) {
	info, err := a.n.JoinRoom(ctx, ref)
	return one(info, err, roomJSON)
}

func (a adapter) Rooms() ([]api.Room, error) {
	rs, err := a.n.Rooms()
	return all(rs, err, roomJSON)
}

func (a adapter) DiscoverRooms(ctx context.Context, name string) ([]api.Room, error) {
	rs, err := a.n.DiscoverRooms(ctx, name)
	return all(rs, err, roomJSON)
}

func (a adapter) LeaveRoom(id room.ID) error { return apiError(a.n.LeaveRoom(id)) }

func (a adapter) RoomSay(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	mid, err := a.n.RoomSay(ctx, id, text)
	return mid, apiError(err)
}

func (a adapter) RoomAsk(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	mid, err := a.n.RoomAsk(ctx, id, text)
	return mid, apiError(err)
}

func (a adapter) RoomUpvote(ctx context.Context, id room.ID, question room.MessageID) error {
	return apiError(a.n.RoomUpvote(ctx, id, question))
}

func (a adapter) RoomAnswer(ctx context.Context, id room.ID, question room.MessageID) error {
	return apiError(a.n.RoomAnswer(ctx, id, question))
}

func (a adapter) RoomPin(ctx context.Context, id room.ID, target room.MessageID) error {
	return apiError(a.n.RoomPin(ctx, id, target))
}

func (a adapter) RoomReact(ctx context.Context, id room.ID, target room.MessageID, emoji string) error {
	return apiError(a.n.RoomReact(ctx, id, target, emoji))
}

func (a adapter) RoomHide(ctx context.Context, id room.ID, target room.MessageID) error {
	return apiError(a.n.RoomHide(ctx, id, target))
}

func (a adapter) RoomMute(ctx context.Context, id room.ID, p peer.ID, until time.Time) error {
	return apiError(a.n.RoomMute(ctx, id, p, until))
}

func (a adapter) RoomGrant(ctx context.Context, id room.ID, p peer.ID, role room.Role, ttl time.Duration) error {
	return apiError(a.n.RoomGrant(ctx, id, p, role, ttl))
}

func (a adapter) RoomWho(id room.ID) (int, []peer.ID, error) {
	listeners, speakers, err := a.n.RoomWho(id)
	return listeners, speakers, apiError(err)
}

func (a adapter) RoomChat(id room.ID, limit int) ([]api.RoomChatLine, error) {
	cs, err := a.n.RoomChat(id, limit)
	return all(cs, err, chatJSON)
}

func (a adapter) RoomQuestions(id room.ID) ([]api.RoomQuestion, error) {
	qs, err := a.n.RoomQuestions(id)
	return all(qs, err, questionJSON)
}

func (a adapter) RoomAskSpeaker(ctx context.Context, id room.ID, speaker peer.ID, text string) (api.Message, error) {
	m, err := a.n.RoomAskSpeaker(ctx, id, speaker, text)
	return one(m, err, messageJSON)
}

func roomJSON(r node.RoomInfo) api.Room {
	return api.Room{
		ID:          r.ID.String(),
		Name:        r.Name,
		Description: r.Description,
		HostID:      r.Host.String(),
		Start:       optTime(r.Start),
		Joined:      r.Joined,
		Listeners:   r.Listeners,
	}
}

func reactionsJSON(rs []roomstate.Reaction) []api.RoomReaction {
	out := make([]api.RoomReaction, 0, len(rs))
	for _, r := range rs {
		out = append(out, api.RoomReaction{Emoji: r.Emoji, Count: r.Count})
	}
	return out
}

func chatJSON(c roomstate.Chat) api.RoomChatLine {
	j := api.RoomChatLine{
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

func questionJSON(q roomstate.Question) api.RoomQuestion {
	return api.RoomQuestion{
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
