package node

import (
	"fmt"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/storage"
)

func protoUnmarshal(b []byte, m proto.Message) error { return proto.Unmarshal(b, m) }

// apply stores or acts on one decrypted content.
func (rc *receipt) apply(id storage.MessageID, c *dmpb.Content) error {
	now := time.Now().UTC()
	switch b := c.Body.(type) {
	case *dmpb.Content_Text:
		kind := KindText
		reply, err := optionalMessageID(b.Text.ReplyTo)
		if err != nil {
			return err
		}
		if !reply.IsZero() {
			kind = KindReply
		}
		if len(b.Text.Body) > rc.n.cfg.Limits.MaxTextBytes || !utf8.ValidString(b.Text.Body) {
			return fmt.Errorf("%w: text of %d bytes or not UTF-8", ErrProtocol, len(b.Text.Body))
		}
		context := b.Text.Context
		if len(context) > maxContextBytes || !utf8.ValidString(context) {
			context = "" // an ornament: a bad one costs the message nothing
		}
		if rc.contact.Origin == "" && context != "" && !rc.known {
			rc.contact.Origin = context
		}
		return rc.store(storage.Message{ID: id, Peer: rc.p, Direction: storage.Inbound, Kind: kind, Body: b.Text.Body,
			ReplyTo: reply, Sent: sentTime(c, now), Received: now, State: storage.StateReceived, Context: context})
	case *dmpb.Content_Reaction:
		target, err := messageIDFrom(b.Reaction.Target)
		if err != nil {
			return err
		}
		if len(b.Reaction.Emoji) > maxEmojiBytes || !utf8.ValidString(b.Reaction.Emoji) {
			return fmt.Errorf("%w: reaction too long", ErrProtocol)
		}
		return rc.store(storage.Message{ID: id, Peer: rc.p, Direction: storage.Inbound, Kind: KindReaction, Body: b.Reaction.Emoji,
			ReplyTo: target, Sent: sentTime(c, now), Received: now, State: storage.StateReceived})
	case *dmpb.Content_ReadReceipt:
		if rc.stranger() {
			return nil
		}
		for _, raw := range b.ReadReceipt.Ids {
			mid, err := messageIDFrom(raw)
			if err != nil {
				return err
			}
			if err := rc.advance(mid, storage.StateRead); err != nil {
				return err
			}
		}
		return nil
	case *dmpb.Content_Typing:
		if !rc.stranger() {
			rc.events = append(rc.events, Event{Type: EventTyping, Peer: rc.p, Typing: b.Typing.Typing})
		}
		return nil
	case *dmpb.Content_Profile:
		name := b.Profile.Name
		if len(name) > contacts.MaxNameBytes || !utf8.ValidString(name) {
			return fmt.Errorf("%w: profile name too long", ErrProtocol)
		}
		if !rc.known {
			return nil // profiles come with acceptance; a stranger's is ignored
		}
		rc.contact.ProfileName = name
		rc.contact.Updated = now
		if err := rc.tx.PutContact(rc.contact); err != nil {
			return err
		}
		c := rc.contact
		rc.events = append(rc.events, Event{Type: EventContact, Peer: rc.p, Contact: &c})
		return nil
	case *dmpb.Content_GroupInvite:
		return rc.groupInvite(id, c, b.GroupInvite)
	case *dmpb.Content_GroupKey:
		return rc.groupKey(b.GroupKey)
	case *dmpb.Content_GroupDecline:
		return rc.groupDecline(b.GroupDecline)
	case *dmpb.Content_GroupLeave:
		return rc.groupLeave(b.GroupLeave)
	case *dmpb.Content_GroupRemoved:
		return rc.groupRemoved(b.GroupRemoved)
	case *dmpb.Content_RequestAccepted:
		if rc.contact.State == storage.ContactAccepted {
			rc.profileBack = true // they accepted us: now they may know our name
		}
		c := rc.contact
		rc.events = append(rc.events, Event{Type: EventContact, Peer: rc.p, Contact: &c})
		return nil
	default:
		return fmt.Errorf("%w: empty or unknown content", ErrProtocol)
	}
}

// store saves an inbound message, creating the stranger's contact record
// (which makes the thread a request) on their first message.
func (rc *receipt) store(m storage.Message) error {
	if !rc.known {
		rc.contact.Created, rc.contact.Updated = m.Received, m.Received
		if err := rc.tx.PutContact(rc.contact); err != nil {
			return err
		}
		rc.known = true
	}
	if err := rc.tx.PutMessage(m); err != nil {
		return err
	}
	rc.stored++
	typ := EventMessage
	if rc.stranger() {
		typ = EventRequest
	}
	rc.events = append(rc.events, Event{Type: typ, Peer: rc.p, Message: &m})
	return nil
}

// advance moves one of our outbound messages forward to state s.
func (rc *receipt) advance(id storage.MessageID, s storage.MessageState) error {
	e, err := advanceState(rc.tx, rc.p, id, s)
	if e != nil {
		rc.events = append(rc.events, *e)
	}
	return err
}

// requestThreads counts strangers' threads in the requests inbox.
func (n *Node) requestThreads(tx *storage.Txn) (int, error) {
	cs, err := tx.Contacts()
	if err != nil {
		return 0, err
	}
	count := 0
	for _, c := range cs {
		if c.State == storage.ContactUnknown {
			count++
		}
	}
	return count, nil
}
