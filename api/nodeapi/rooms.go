package nodeapi

import (
	"context"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
)

// Live rooms.

func (a adapter) CreateRoom(ctx context.Context, name, description string, start time.Time, as *api.RoomNameChoice) (api.Room, error) {
	info, err := a.n.CreateRoom(ctx, name, description, start, nameChoice(as))
	return one(info, err, roomJSON)
}

func (a adapter) JoinRoom(ctx context.Context, ref string, as *api.RoomNameChoice) (api.Room, error) {
	info, err := a.n.JoinRoom(ctx, ref, nameChoice(as))
	return one(info, err, roomJSON)
}

func (a adapter) RoomSetName(ctx context.Context, id room.ID, as api.RoomNameChoice) error {
	return apiError(a.n.RoomSetName(ctx, id, *nameChoice(&as)))
}

func nameChoice(as *api.RoomNameChoice) *node.RoomNameChoice {
	if as == nil {
		return nil
	}
	return &node.RoomNameChoice{UseProfile: as.UseProfile, Name: as.Name}
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

func (a adapter) RoomPeople(id room.ID) (api.RoomDetail, error) {
	who, err := a.n.RoomPeople(id)
	if err != nil {
		return api.RoomDetail{}, apiError(err)
	}
	out := api.RoomDetail{
		Speakers:   []string{},
		People:     make([]api.RoomPerson, 0, len(who.Present)),
		PeopleMore: who.More,
		As:         &api.RoomNameChoice{UseProfile: who.As.UseProfile, Name: who.As.Name},
		MyName:     who.MyName,
	}
	for _, p := range who.Speakers {
		out.Speakers = append(out.Speakers, p.String())
	}
	for _, p := range who.Present {
		out.People = append(out.People, personJSON(p))
	}
	return out, nil
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

// reactionsJSON converts rs, of which the emojis in mine are ours.
func reactionsJSON(rs []roomstate.Reaction, mine []string) []api.RoomReaction {
	out := make([]api.RoomReaction, 0, len(rs))
	for _, r := range rs {
		out = append(out, api.RoomReaction{Emoji: r.Emoji, Count: r.Count, Mine: slices.Contains(mine, r.Emoji)})
	}
	return out
}

func personJSON(p node.RoomPerson) api.RoomPerson {
	return api.RoomPerson{
		ID:       p.Peer.String(),
		Name:     p.Name,
		Display:  p.Display,
		Role:     p.Role.String(),
		Contact:  p.Contact,
		Verified: p.Verified,
		Me:       p.Me,
	}
}

func chatJSON(c node.RoomChatLine) api.RoomChatLine {
	j := api.RoomChatLine{
		ID:        c.ID.String(),
		SenderID:  c.Sender.PeerID().String(),
		Sender:    personJSON(c.From),
		Time:      optTime(c.Timestamp),
		Text:      c.Text,
		Reactions: reactionsJSON(c.Reactions, c.MyReactions),
	}
	if c.ReplyTo != (room.MessageID{}) {
		j.ReplyTo = c.ReplyTo.String()
	}
	return j
}

func questionJSON(q node.RoomQuestionLine) api.RoomQuestion {
	return api.RoomQuestion{
		ID:        q.ID.String(),
		SenderID:  q.Sender.PeerID().String(),
		Sender:    personJSON(q.From),
		Time:      optTime(q.Timestamp),
		Text:      q.Text,
		Upvotes:   q.Upvotes,
		Upvoted:   q.Upvoted,
		Answered:  q.Answered,
		Pinned:    q.Pinned,
		Reactions: reactionsJSON(q.Reactions, q.MyReactions),
	}
}
