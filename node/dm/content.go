package dm

import (
	"fmt"
	"time"

	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/storage"
)

// Message kinds stored in conversations.
const (
	KindText     = "text"
	KindReply    = "reply"
	KindReaction = "reaction"
)

// MaxEmojiBytes bounds a reaction.
const MaxEmojiBytes = 64

func contentFromMessage(m storage.Message) (*dmpb.Content, error) {
	c := &dmpb.Content{Id: m.ID[:], SentUnixNano: m.Sent.UnixNano()}
	switch m.Kind {
	case KindText, KindReply, "":
		t := &dmpb.Text{Body: m.Body, Context: m.Context}
		if !m.ReplyTo.IsZero() {
			t.ReplyTo = m.ReplyTo[:]
		}
		c.Body = &dmpb.Content_Text{Text: t}
	case KindReaction:
		c.Body = &dmpb.Content_Reaction{Reaction: &dmpb.Reaction{Target: m.ReplyTo[:], Emoji: m.Body}}
	default:
		return nil, fmt.Errorf("unknown message kind %q", m.Kind)
	}
	return c, nil
}

func messageIDFrom(b []byte) (storage.MessageID, error) {
	var id storage.MessageID
	if len(b) != len(id) {
		return id, fmt.Errorf("%w: message ID of %d bytes", errs.ErrProtocol, len(b))
	}
	copy(id[:], b)
	return id, nil
}

func optionalMessageID(b []byte) (storage.MessageID, error) {
	if len(b) == 0 {
		return storage.MessageID{}, nil
	}
	return messageIDFrom(b)
}

func sentTime(c *dmpb.Content, received time.Time) time.Time {
	if c.SentUnixNano <= 0 {
		return received
	}
	t := time.Unix(0, c.SentUnixNano).UTC()
	// A sender's clock may be off; never let a message sort far in the future.
	if t.After(received.Add(time.Hour)) {
		return received
	}
	return t
}
