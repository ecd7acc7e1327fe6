package apitest

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/room"
)

// emitRoom emits the "room_message" event of a message of kind.
func (f *Fake) emitRoom(id room.ID, mid room.MessageID, kind room.Kind, now time.Time) {
	f.Emit(api.Event{Type: "room_message", Room: &api.RoomEvent{RoomID: id.String(), MessageID: mid.String(), Kind: kind.String()}, Time: at(now)})
}

// post adds a chat line or a question from p and emits its event.
func (f *Fake) post(id room.ID, p peer.ID, kind room.Kind, text string) (room.MessageID, error) {
	if len(text) > room.MaxBody-16 {
		return room.MessageID{}, fmt.Errorf("%w: text of %d bytes", api.ErrTooLarge, len(text))
	}
	f.mu.Lock()
	r, ok := f.rooms[id]
	if !ok {
		f.mu.Unlock()
		return room.MessageID{}, fmt.Errorf("%w: not in room %s", api.ErrNotFound, id)
	}
	if r.muted[p].After(f.Now) {
		f.mu.Unlock()
		return room.MessageID{}, fmt.Errorf("invalid room: %w", api.ErrMuted)
	}
	mid, now := f.newRoomMessageIDLocked(), f.Now
	switch kind {
	case room.KindChat:
		r.chat = append(r.chat, api.RoomChatLine{ID: mid.String(), SenderID: p.String(), Time: at(now), Text: text})
	case room.KindQuestion:
		r.questions = append(r.questions, api.RoomQuestion{ID: mid.String(), SenderID: p.String(), Time: at(now), Text: text})
	}
	f.mu.Unlock()
	f.emitRoom(id, mid, kind, now)
	return mid, nil
}

// newRoomMessageIDLocked returns the next message ID and moves time on one
// second; f.mu is held.
func (f *Fake) newRoomMessageIDLocked() room.MessageID {
	f.nextID++
	f.tick()
	return RoomMessageID(f.nextID)
}

// act checks that we may send kind in a joined room (moderation kinds need
// the host or a moderator), applies it with do under f.mu and emits the
// event.
func (f *Fake) act(id room.ID, kind room.Kind, target room.MessageID, do func(r *fakeRoom) error) error {
	f.mu.Lock()
	r, err := f.joinedLocked(id)
	if err != nil {
		f.mu.Unlock()
		return err
	}
	switch kind {
	case room.KindAnswered, room.KindPin, room.KindHide, room.KindMute:
		if r.host != f.self && r.roles[f.self] != room.RoleModerator {
			f.mu.Unlock()
			return fmt.Errorf("invalid room: %s: %w", kind, api.ErrNotAllowed)
		}
	case room.KindRoleGrant:
		if r.host != f.self {
			f.mu.Unlock()
			return fmt.Errorf("invalid room: %s: %w", kind, api.ErrNotAllowed)
		}
	}
	if r.muted[f.self].After(f.Now) {
		f.mu.Unlock()
		return fmt.Errorf("invalid room: %w", api.ErrMuted)
	}
	if target != (room.MessageID{}) && !r.has(target.String()) {
		f.mu.Unlock()
		return fmt.Errorf("%w: no message %s in room %s", api.ErrNotFound, target, id)
	}
	if err := do(r); err != nil {
		f.mu.Unlock()
		return err
	}
	mid, now := f.newRoomMessageIDLocked(), f.Now
	f.mu.Unlock()
	f.emitRoom(id, mid, kind, now)
	return nil
}

func (r *fakeRoom) has(id string) bool {
	return slices.ContainsFunc(r.chat, func(c api.RoomChatLine) bool { return c.ID == id }) || r.question(id) >= 0
}

func (r *fakeRoom) question(id string) int {
	return slices.IndexFunc(r.questions, func(q api.RoomQuestion) bool { return q.ID == id })
}

// mustJoin checks that this node is in room id.
func (f *Fake) mustJoin(id room.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, err := f.joinedLocked(id)
	return err
}

// RoomAskSpeaker implements api.RoomBackend: the speaker must be the
// room's host or a peer granted a role with RoomGrant.
func (f *Fake) RoomAskSpeaker(ctx context.Context, id room.ID, speaker peer.ID, text string) (api.Message, error) {
	if err := f.mustJoin(id); err != nil {
		return api.Message{}, err
	}
	f.mu.Lock()
	r := f.rooms[id]
	speaks := r.host == speaker || r.roles[speaker] != 0
	f.mu.Unlock()
	if !speaks {
		return api.Message{}, fmt.Errorf("%s: %w", speaker, api.ErrNotSpeaker)
	}
	return f.send(speaker, api.Outgoing{Body: text}, "room:"+id.String())
}

// RoomSay implements api.RoomBackend.
func (f *Fake) RoomSay(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	if err := f.mustJoin(id); err != nil {
		return room.MessageID{}, err
	}
	return f.post(id, f.self, room.KindChat, text)
}

// RoomAsk implements api.RoomBackend.
func (f *Fake) RoomAsk(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	if err := f.mustJoin(id); err != nil {
		return room.MessageID{}, err
	}
	return f.post(id, f.self, room.KindQuestion, text)
}

// RoomUpvote implements api.RoomBackend: one vote per peer, and only this
// node votes.
func (f *Fake) RoomUpvote(ctx context.Context, id room.ID, question room.MessageID) error {
	return f.act(id, room.KindUpvote, question, func(r *fakeRoom) error {
		i := r.question(question.String())
		if i < 0 {
			return fmt.Errorf("%w: %s is not a question", api.ErrInvalidRoom, question)
		}
		r.questions[i].Upvotes, r.questions[i].Upvoted = 1, true
		return nil
	})
}

// RoomAnswer implements api.RoomBackend.
func (f *Fake) RoomAnswer(ctx context.Context, id room.ID, question room.MessageID) error {
	return f.act(id, room.KindAnswered, question, func(r *fakeRoom) error {
		i := r.question(question.String())
		if i < 0 {
			return fmt.Errorf("%w: %s is not a question", api.ErrInvalidRoom, question)
		}
		r.questions[i].Answered = true
		return nil
	})
}

// RoomPin implements api.RoomBackend: the zero ID unpins.
func (f *Fake) RoomPin(ctx context.Context, id room.ID, target room.MessageID) error {
	return f.act(id, room.KindPin, target, func(r *fakeRoom) error {
		for i := range r.questions {
			r.questions[i].Pinned = r.questions[i].ID == target.String()
		}
		return nil
	})
}

// RoomReact implements api.RoomBackend.
func (f *Fake) RoomReact(ctx context.Context, id room.ID, target room.MessageID, emoji string) error {
	t := target.String()
	return f.act(id, room.KindReaction, target, func(r *fakeRoom) error {
		if r.reactions[t] == nil {
			r.reactions[t] = map[string]int{}
		}
		r.reactions[t][emoji]++
		return nil
	})
}

// RoomHide implements api.RoomBackend.
func (f *Fake) RoomHide(ctx context.Context, id room.ID, target room.MessageID) error {
	return f.act(id, room.KindHide, target, func(r *fakeRoom) error { r.hidden[target.String()] = true; return nil })
}

// RoomMute implements api.RoomBackend. The API checks until (the fake's
// clock is not the caller's).
func (f *Fake) RoomMute(ctx context.Context, id room.ID, p peer.ID, until time.Time) error {
	return f.act(id, room.KindMute, room.MessageID{}, func(r *fakeRoom) error { r.muted[p] = until; return nil })
}

// RoomGrant implements api.RoomBackend. The API checks the role and ttl.
func (f *Fake) RoomGrant(ctx context.Context, id room.ID, p peer.ID, role room.Role, ttl time.Duration) error {
	return f.act(id, room.KindRoleGrant, room.MessageID{}, func(r *fakeRoom) error { r.roles[p] = role; return nil })
}
