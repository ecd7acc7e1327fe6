package roomstate

import (
	"fmt"
	"time"

	"github.com/backchannel/backchannel/crypto/room"
)

// Allowed reports whether m may be forwarded in the room at now: what a
// topic validator asks after verifying m's signature and before passing it
// on. It returns nil or an error wrapping one of:
//
//   - ErrWrongRoom: m is bound to another room.
//   - ErrUnknownKind, ErrBadBody: the body does not decode for its kind, or
//     is out of bounds (text sizes, presence TTL, a mute longer than MaxMute
//     or ending before it starts, a tally's counts).
//   - ErrMuted: m is a chat line, question, upvote or reaction from a peer
//     muted at m's Timestamp.
//   - ErrNotAllowed: m is an answered, pin, hide, mute, role grant or tally
//     from a peer that is not the host or a moderator both at now and at
//     m's Timestamp (an action Apply would not count is not worth
//     forwarding), or a mute of the host.
//   - ErrBadGrant: a role grant that does not verify under the room's host
//     key and room ID at now (forged, for another room, expired).
//
// Allowed does not judge freshness, sequence numbers or rates: the validator
// does. It does not need the targets of upvotes, hides and the like to be
// known: they may arrive later. Allowed depends on the grants and mutes the
// state holds, so a moderator's first action may be refused until the
// grant is applied; history pulled from peers should go to Apply, which
// judges actions by their own time.
func (s *State) Allowed(m room.Message, now time.Time) error {
	if m.Room != s.desc.Room {
		return fmt.Errorf("%w: message for %s in room %s", ErrWrongRoom, m.Room, s.desc.Room)
	}
	p, err := decodeBody(m)
	if err != nil {
		return err
	}
	switch b := p.(type) {
	case ChatBody, QuestionBody, upvote, ReactionBody:
		if s.Muted(m.Sender, m.Timestamp) {
			return fmt.Errorf("%w: %s from %s at %s", ErrMuted, m.Kind, m.Sender, m.Timestamp)
		}
	case answered, pin, hide, MuteBody, room.RoleGrant, TallyBody:
		if !s.moderatorAt(m.Sender, now) || !s.moderatorAt(m.Sender, m.Timestamp) {
			return fmt.Errorf("%w: %s from %s, a %s", ErrNotAllowed, m.Kind, m.Sender, s.Role(m.Sender, now))
		}
		if mb, ok := b.(MuteBody); ok && mb.Peer == s.desc.Host {
			return fmt.Errorf("%w: mute of the host", ErrNotAllowed)
		}
		if g, ok := b.(room.RoleGrant); ok {
			if err := g.Verify(s.desc.Host, s.desc.Room, now); err != nil {
				return fmt.Errorf("%w: %w", ErrBadGrant, err)
			}
		}
	}
	return nil
}
