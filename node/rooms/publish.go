package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/input"
	"github.com/backchannel/backchannel/node/internal/topic"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
)

const (
	// publishWait bounds how long a publish waits for the room's mesh.
	publishWait = 5 * time.Second
	// publishQueue bounds our messages waiting for the room's mesh.
	publishQueue = 1024
	// leaveFlush bounds how long leaving a room waits to send what is
	// queued.
	leaveFlush = 2 * time.Second
)

// publishPolicy is how a room's queue publishes our messages (see
// publishLoop).
var publishPolicy = topic.Policy{Size: publishQueue, Wait: publishWait, MaxAge: publishWait, Flush: leaveFlush}

// publish signs and publishes one message of ours to a joined room.
//
// The message goes to the publisher before it is stored, and the store
// writes it meanwhile: a speaker's line does not wait for a commit. Its
// number is spent once signed, so it is never reused in this process. A
// process killed between the publish and the commit comes back with a
// store that lacks a message peers hold; the first sync after joining
// brings it back, and our first message waits for that sync (see synced),
// so its number is not reused either. Only a message neither published nor
// stored (the store failing while we are alone in the room) leaves a hole
// in our numbering, at which peers' contiguous marks of us stop.
func (s *Service) publish(ctx context.Context, id room.ID, kind room.Kind, body []byte) (room.MessageID, error) {
	lr, err := s.joined(id)
	if err != nil {
		return room.MessageID{}, err
	}
	if err := lr.waitSynced(ctx); err != nil {
		return room.MessageID{}, err
	}
	lr.pubMu.Lock()
	defer lr.pubMu.Unlock()
	m := room.Message{Room: id, Kind: kind, Seq: lr.seq + 1, Timestamp: time.Now(), Body: body}
	err = m.Sign(s.env.Identity.Signing())
	if err == nil {
		lr.mu.Lock()
		err = lr.state.Allowed(m, time.Now())
		lr.mu.Unlock()
	}
	if err != nil {
		return room.MessageID{}, fmt.Errorf("%w: %w", errs.ErrInvalidRoom, err)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		return room.MessageID{}, fmt.Errorf("%w: %w", errs.ErrInvalidRoom, err)
	}
	lr.seq++
	if !lr.pub.Enqueue(data) { // a burst beyond the queue: stored, and sync carries it
		s.env.Log.Debug("room publish queue full; sync will carry it", "room", id)
	}
	mid := m.ID()
	if err := s.storeOwn(lr, m, mid, data); err != nil {
		s.env.Log.Error("room: our message not stored; peers that got it give it back through sync", "room", id, "seq", m.Seq, "err", err)
		return mid, fmt.Errorf("room message %d not stored: %w", m.Seq, err)
	}
	return mid, nil
}

func (s *Service) publishBody(ctx context.Context, id room.ID, kind room.Kind, body func() ([]byte, error)) error {
	b, err := body()
	if err != nil {
		return fmt.Errorf("%w: %w", errs.ErrInvalidRoom, err)
	}
	_, err = s.publish(ctx, id, kind, b)
	return err
}

// RoomSay sends a chat message.
func (s *Service) RoomSay(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	if err := input.Text(text); err != nil {
		return room.MessageID{}, errs.Say(errs.ErrInvalidRoom, err, nil)
	}
	lr, err := s.joined(id)
	if err != nil {
		return room.MessageID{}, err
	}
	body, err := roomstate.EncodeChat(roomstate.ChatBody{Text: text, Name: s.myName(lr)})
	if err != nil {
		return room.MessageID{}, fmt.Errorf("%w: %w", errs.ErrTooLarge, err)
	}
	return s.publish(ctx, id, room.KindChat, body)
}

// RoomAsk asks the speakers a question.
func (s *Service) RoomAsk(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	if err := input.Text(text); err != nil {
		return room.MessageID{}, errs.Say(errs.ErrInvalidRoom, err, nil)
	}
	lr, err := s.joined(id)
	if err != nil {
		return room.MessageID{}, err
	}
	body, err := roomstate.EncodeQuestion(roomstate.QuestionBody{Text: text, Name: s.myName(lr)})
	if err != nil {
		return room.MessageID{}, fmt.Errorf("%w: %w", errs.ErrTooLarge, err)
	}
	return s.publish(ctx, id, room.KindQuestion, body)
}

// RoomUpvote upvotes a question (once per peer, however often it is sent).
// A listener of a large room hands it to the host, which tallies it (see
// handBallot); else, or if that fails, it is published.
func (s *Service) RoomUpvote(ctx context.Context, id room.ID, question room.MessageID) error {
	if s.handBallot(ctx, id, question, "") {
		return nil
	}
	return s.publishBody(ctx, id, room.KindUpvote, func() ([]byte, error) { return roomstate.EncodeUpvote(question) })
}

// RoomAnswer marks a question answered (host or moderator).
func (s *Service) RoomAnswer(ctx context.Context, id room.ID, question room.MessageID) error {
	err := s.publishBody(ctx, id, room.KindAnswered, func() ([]byte, error) { return roomstate.EncodeAnswered(question) })
	if errors.Is(err, roomstate.ErrNotAllowed) {
		return errs.Say(roomstate.ErrNotAllowed, errNotAnswerer, err)
	}
	return err
}

// errNotAnswerer is a listener's answer refused, in the user's words.
var errNotAnswerer = errors.New("only the room's host and moderators can answer questions")

// RoomPin pins a message, or unpins with the zero ID (host or moderator).
func (s *Service) RoomPin(ctx context.Context, id room.ID, target room.MessageID) error {
	return s.publishBody(ctx, id, room.KindPin, func() ([]byte, error) { return roomstate.EncodePin(target) })
}

// RoomReact reacts to a message with an emoji, handed to the host or
// published as RoomUpvote's vote is.
func (s *Service) RoomReact(ctx context.Context, id room.ID, target room.MessageID, emoji string) error {
	if err := input.Reaction(emoji); err != nil {
		return errs.Say(errs.ErrInvalidRoom, err, nil)
	}
	if s.handBallot(ctx, id, target, emoji) {
		return nil
	}
	return s.publishBody(ctx, id, room.KindReaction, func() ([]byte, error) { return roomstate.EncodeReaction(target, emoji) })
}

// RoomHide hides a message for everyone (host or moderator).
func (s *Service) RoomHide(ctx context.Context, id room.ID, target room.MessageID) error {
	return s.publishBody(ctx, id, room.KindHide, func() ([]byte, error) { return roomstate.EncodeHide(target) })
}

// RoomMute mutes a peer until a time at most a day away (host or moderator).
func (s *Service) RoomMute(ctx context.Context, id room.ID, p peer.ID, until time.Time) error {
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return fmt.Errorf("%w: %w", errs.ErrUnknownPeer, err)
	}
	return s.publishBody(ctx, id, room.KindMute, func() ([]byte, error) { return roomstate.EncodeMute(pk, until) })
}

// RoomGrant gives p a role (speaker or moderator) for ttl: only the host can.
func (s *Service) RoomGrant(ctx context.Context, id room.ID, p peer.ID, role room.Role, ttl time.Duration) error {
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return fmt.Errorf("%w: %w", errs.ErrUnknownPeer, err)
	}
	if lr, ok := s.get(id); ok && lr.desc.Host != s.env.Identity.Signing().Public() {
		return errs.Say(roomstate.ErrNotAllowed, fmt.Errorf("only the room's host can make %ss", role),
			fmt.Errorf("%w: %s grant to %s: this node is not the host", errs.ErrInvalidRoom, role, p))
	}
	now := time.Now()
	g := room.RoleGrant{Room: id, Grantee: pk, Role: role, IssuedAt: now, ExpiresAt: now.Add(ttl)}
	if err := g.Sign(s.env.Identity.Signing()); err != nil {
		return fmt.Errorf("%w: %w", errs.ErrInvalidRoom, err)
	}
	return s.publishBody(ctx, id, room.KindRoleGrant, func() ([]byte, error) { return roomstate.EncodeRoleGrant(g) })
}

// publishLoop publishes our stored messages in order, each waiting up to
// publishWait for the mesh, so that a sender never blocks on a room it is
// alone in: what cannot be sent now reaches the others through sync. A
// message that waited in the queue longer than publishWait is not
// published late either: sync carries it, and a backlog built up while we
// were alone would otherwise hold every newer message behind it.
//
// When the room is left it sends what is still queued (the leaving presence
// among it) for up to leaveFlush, then closes lr.published.
func (s *Service) publishLoop(lr *liveRoom) {
	s.goRoom(lr, func() {
		defer close(lr.published)
		lr.pub.Run(s.ctx, lr.ctx, func(err error) {
			s.env.Log.Debug("room publish not sent; sync will carry it", "room", lr.desc.Room, "err", err)
		})
	})
}
