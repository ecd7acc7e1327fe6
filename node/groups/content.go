package groups

import (
	"bytes"
	"errors"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/internal/groupspb"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/peer"
)

// groupSentTime is the author's timestamp, never far in the future.
func groupSentTime(unixNano int64, received time.Time) time.Time {
	if unixNano <= 0 {
		return received
	}
	t := time.Unix(0, unixNano).UTC()
	if t.After(received.Add(time.Hour)) {
		return received
	}
	return t
}

func msgID32(b []byte) ([32]byte, bool) {
	if len(b) != 32 {
		return [32]byte{}, false
	}
	return [32]byte(b), true
}

// applyGroupContent stores what an opened envelope says: a line of the
// thread, a note on another message, a receipt, a rename. It returns the
// event to publish (nil for content that is dropped) and whether members
// acknowledge it with a receipt (everything but receipts).
func (s *Service) applyGroupContent(tx *storage.Txn, g *storage.Group, chain *rosterChain, e *group.Envelope, id [32]byte, gc *groupspb.GroupContent, outbound bool, now time.Time) (*event.Event, bool, error) {
	sender := e.Sender.PeerID()
	a := &applied{s: s, tx: tx, g: g, e: e, now: now,
		m: storage.GroupMessage{Group: g.ID, ID: id, Epoch: e.Epoch, Sender: sender, Seq: e.Seq, Sent: groupSentTime(gc.SentUnixNano, now), Outbound: outbound}}
	if !outbound {
		a.m.Received = now
	}
	switch b := gc.Body.(type) {
	case *groupspb.GroupContent_Text:
		return a.text(b.Text)
	case *groupspb.GroupContent_Reaction:
		target, ok := msgID32(b.Reaction.Target)
		if !ok || b.Reaction.Emoji == "" || len(b.Reaction.Emoji) > maxEmojiBytes || !utf8.ValidString(b.Reaction.Emoji) {
			return a.drop("reaction")
		}
		return a.note(storage.NoteReaction, b.Reaction.Emoji, target)
	case *groupspb.GroupContent_Event:
		return a.plan(b.Event)
	case *groupspb.GroupContent_Rsvp:
		target, ok := msgID32(b.Rsvp.Event)
		answer, known := rsvpName(b.Rsvp.Answer)
		if !ok || !known {
			return a.drop("rsvp")
		}
		return a.note(KindRSVP, answer, target)
	case *groupspb.GroupContent_Rename:
		return a.rename(chain, b.Rename)
	case *groupspb.GroupContent_Left:
		return a.line(KindLeft)
	case *groupspb.GroupContent_Receipt:
		if outbound {
			return nil, false, nil
		}
		return s.mergeReceipt(tx, g, sender, b.Receipt, now)
	}
	return a.drop("empty or unknown content")
}

// applied is one opened envelope's content being stored.
type applied struct {
	s   *Service
	tx  *storage.Txn
	g   *storage.Group
	e   *group.Envelope
	m   storage.GroupMessage // the line it makes, if it makes one
	now time.Time
}

func (a *applied) eventOf(kind string) *event.Event {
	return &event.Event{Type: event.GroupMessage, Peer: a.m.Sender, Group: &event.Group{Group: group.ID(a.g.ID), Epoch: a.e.Epoch, Message: a.m.ID, Kind: kind}}
}

func (a *applied) drop(why string) (*event.Event, bool, error) {
	a.s.log.Debug("group: content dropped", "group", a.g.ID, "sender", a.m.Sender, "why", why)
	return nil, false, nil
}

// line stores the message as a line of the thread.
func (a *applied) line(kind string) (*event.Event, bool, error) {
	a.m.Kind = kind
	added, err := a.tx.PutGroupMessage(a.m)
	if err != nil || !added {
		return nil, false, err
	}
	return a.eventOf(kind), true, nil
}

// note stores the message as a note on target (a reaction, an RSVP).
func (a *applied) note(kind, value string, target [32]byte) (*event.Event, bool, error) {
	_, err := a.tx.PutGroupNote(storage.GroupNote{Group: a.g.ID, Target: target, Sender: a.m.Sender, Kind: kind, Value: value, Sent: a.m.Sent, ID: a.m.ID})
	if err != nil {
		return nil, false, err
	}
	return a.eventOf(kind), true, nil
}

func (a *applied) validText(t string) bool {
	return len(t) > 0 && len(t) <= a.s.cfg.MaxTextBytes && utf8.ValidString(t)
}

func (a *applied) text(t *groupspb.GroupText) (*event.Event, bool, error) {
	if !a.validText(t.Body) {
		return a.drop("text size or encoding")
	}
	a.m.Body = t.Body
	if len(t.ReplyTo) == 0 {
		return a.line(KindText)
	}
	target, ok := msgID32(t.ReplyTo)
	if !ok {
		return a.drop("reply target")
	}
	a.m.ReplyTo = target
	return a.line(KindReply)
}

func (a *applied) plan(ev *groupspb.GroupEvent) (*event.Event, bool, error) {
	if !a.validText(ev.Title) || ev.StartUnixNano <= 0 {
		return a.drop("event")
	}
	a.m.Body, a.m.EventStart = ev.Title, time.Unix(0, ev.StartUnixNano).UTC()
	return a.line(KindEvent)
}

// rename counts from an owner or admin of the envelope's epoch; the last
// writer wins by sent time, then ID.
func (a *applied) rename(chain *rosterChain, r *groupspb.GroupRename) (*event.Event, bool, error) {
	ro := chain.at(a.e.Epoch)
	if ro == nil || (ro.Role(a.e.Sender) != group.RoleOwner && ro.Role(a.e.Sender) != group.RoleAdmin) {
		return a.drop("rename by a member who may not")
	}
	if checkGroupName(r.Name) != nil {
		return a.drop("group name")
	}
	a.m.Body = r.Name
	g, id := a.g, a.m.ID
	if a.m.Sent.After(g.NameSent) || a.m.Sent.Equal(g.NameSent) && bytes.Compare(id[:], g.NameID[:]) > 0 {
		g.Name, g.NameSent, g.NameID, g.Updated = r.Name, a.m.Sent, id, a.now
		if err := a.tx.PutGroup(*g); err != nil {
			return nil, false, err
		}
	}
	return a.line(KindRename)
}

// maxReceiptMarks bounds the marks one receipt may carry.
const maxReceiptMarks = 4 * group.MaxMembers

// mergeReceipt raises a member's stored marks to those of its receipt.
func (s *Service) mergeReceipt(tx *storage.Txn, g *storage.Group, member peer.ID, r *groupspb.GroupReceipt, now time.Time) (*event.Event, bool, error) {
	if len(r.Delivered)+len(r.Read) > maxReceiptMarks {
		return nil, false, nil
	}
	old, err := tx.GroupReceipt(g.ID, member)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, false, err
	}
	old.Member, old.Updated = member, now
	var ok bool
	if old.Delivered, ok = mergeMarks(old.Delivered, r.Delivered); !ok {
		return nil, false, nil
	}
	if old.Read, ok = mergeMarks(old.Read, r.Read); !ok {
		return nil, false, nil
	}
	if err := tx.PutGroupReceipt(g.ID, old); err != nil {
		return nil, false, err
	}
	return &event.Event{Type: event.GroupReceipt, Peer: member, Group: &event.Group{Group: group.ID(g.ID), Member: member}}, false, nil
}

// mergeMarks raises marks to the wire marks; false if one is malformed.
func mergeMarks(marks []storage.GroupMark, wire []*groupspb.GroupMark) ([]storage.GroupMark, bool) {
	for _, w := range wire {
		pk, err := keys.PublicKeyFromBytes(w.Sender)
		if err != nil {
			return nil, false
		}
		p := pk.PeerID()
		i := slices.IndexFunc(marks, func(m storage.GroupMark) bool { return m.Epoch == w.Epoch && m.Sender == p })
		switch {
		case i < 0:
			marks = append(marks, storage.GroupMark{Epoch: w.Epoch, Sender: p, Next: w.Next})
		case marks[i].Next < w.Next:
			marks[i].Next = w.Next
		}
	}
	return marks, true
}
