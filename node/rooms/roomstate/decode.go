package roomstate

import (
	"fmt"

	"github.com/backchannel/backchannel/crypto/room"
)

// Decoded payloads of the kinds whose body is a bare value, typed so that
// decodeBody's result says its kind.
type (
	upvote   struct{ question room.MessageID }
	answered struct{ question room.MessageID }
	pin      struct{ target room.MessageID }
	hide     struct{ target room.MessageID }
)

// decodeBody decodes m's body for its kind and checks what needs the
// message too (a mute's length against its timestamp). It returns one of
// ChatBody, QuestionBody, upvote, answered, pin, ReactionBody, PresenceBody,
// room.RoleGrant, hide, MuteBody, TallyBody.
func decodeBody(m room.Message) (any, error) {
	var (
		p   any
		err error
	)
	switch m.Kind {
	case room.KindChat:
		p, err = DecodeChat(m.Body)
	case room.KindQuestion:
		p, err = DecodeQuestion(m.Body)
	case room.KindUpvote:
		var id room.MessageID
		id, err = DecodeUpvote(m.Body)
		p = upvote{id}
	case room.KindAnswered:
		var id room.MessageID
		id, err = DecodeAnswered(m.Body)
		p = answered{id}
	case room.KindPin:
		var id room.MessageID
		id, err = DecodePin(m.Body)
		p = pin{id}
	case room.KindReaction:
		p, err = DecodeReaction(m.Body)
	case room.KindPresence:
		p, err = DecodePresence(m.Body)
	case room.KindRoleGrant:
		p, err = DecodeRoleGrant(m.Body)
	case room.KindHide:
		var id room.MessageID
		id, err = DecodeHide(m.Body)
		p = hide{id}
	case room.KindTally:
		p, err = DecodeTally(m.Body)
	case room.KindMute:
		var mb MuteBody
		mb, err = DecodeMute(m.Body)
		if err == nil {
			err = checkMuteSpan(m, mb)
		}
		p = mb
	default:
		return nil, fmt.Errorf("%w: %s", ErrUnknownKind, m.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("%s from %s: %w", m.Kind, m.Sender, err)
	}
	return p, nil
}

// checkMuteSpan checks that a mute ends after it is sent, within MaxMute.
func checkMuteSpan(m room.Message, b MuteBody) error {
	if !b.Until.After(m.Timestamp) {
		return fmt.Errorf("%w: mute until %s, not after its timestamp %s", ErrBadBody, b.Until, m.Timestamp)
	}
	if b.Until.Sub(m.Timestamp) > MaxMute {
		return fmt.Errorf("%w: mute for %s, max %s", ErrBadBody, b.Until.Sub(m.Timestamp), MaxMute)
	}
	return nil
}
