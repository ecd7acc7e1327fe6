package groups

import (
	"context"
	"errors"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/internal/groupspb"
	"github.com/backchannel/backchannel/storage"
	"google.golang.org/protobuf/proto"
)

// groupContent builds the plaintext of an outgoing message.
func (s *Service) groupContent(out Outgoing) (*groupspb.GroupContent, error) {
	if out.Kind == "" {
		out.Kind = KindText
		if out.ReplyTo != ([32]byte{}) {
			out.Kind = KindReply
		}
	}
	var zero [32]byte
	text := func() error {
		if out.Body == "" || len(out.Body) > s.cfg.MaxTextBytes || !utf8.ValidString(out.Body) {
			return fmt.Errorf("%w: a text is 1 to %d bytes of UTF-8", errs.ErrTooLarge, s.cfg.MaxTextBytes)
		}
		return nil
	}
	switch out.Kind {
	case KindText, KindReply:
		if err := text(); err != nil {
			return nil, err
		}
		t := &groupspb.GroupText{Body: out.Body}
		if out.ReplyTo != zero {
			t.ReplyTo = out.ReplyTo[:]
		}
		return &groupspb.GroupContent{Body: &groupspb.GroupContent_Text{Text: t}}, nil
	case KindReaction:
		if out.ReplyTo == zero || out.Body == "" || len(out.Body) > maxEmojiBytes || !utf8.ValidString(out.Body) {
			return nil, fmt.Errorf("%w: a reaction needs a target and a short emoji", errs.ErrInvalidGroup)
		}
		return &groupspb.GroupContent{Body: &groupspb.GroupContent_Reaction{Reaction: &groupspb.GroupReaction{Target: out.ReplyTo[:], Emoji: out.Body}}}, nil
	case KindEvent:
		if err := text(); err != nil {
			return nil, err
		}
		if out.Start.IsZero() || out.Start.Before(time.Unix(0, 0)) {
			return nil, fmt.Errorf("%w: an event needs a start time", errs.ErrInvalidGroup)
		}
		return &groupspb.GroupContent{Body: &groupspb.GroupContent_Event{Event: &groupspb.GroupEvent{Title: out.Body, StartUnixNano: out.Start.UnixNano()}}}, nil
	case KindRSVP:
		a, ok := rsvpAnswers[out.Body]
		if !ok || out.ReplyTo == zero {
			return nil, fmt.Errorf("%w: an RSVP names an event and answers yes, no or maybe", errs.ErrInvalidGroup)
		}
		return &groupspb.GroupContent{Body: &groupspb.GroupContent_Rsvp{Rsvp: &groupspb.GroupRsvp{Event: out.ReplyTo[:], Answer: a}}}, nil
	}
	return nil, fmt.Errorf("%w: unknown message kind %q", errs.ErrInvalidGroup, out.Kind)
}

var rsvpAnswers = map[string]groupspb.GroupRsvp_Answer{RSVPYes: groupspb.GroupRsvp_YES, RSVPNo: groupspb.GroupRsvp_NO, RSVPMaybe: groupspb.GroupRsvp_MAYBE}

func rsvpName(a groupspb.GroupRsvp_Answer) (string, bool) {
	for name, x := range rsvpAnswers {
		if x == a {
			return name, true
		}
	}
	return "", false
}

// GroupSend seals a message with this node's chain of the group's newest
// epoch, stores it and publishes it on the group's topic (if the mesh is not
// there yet, members get it through sync).
func (s *Service) GroupSend(_ context.Context, id group.ID, out Outgoing) (Message, error) {
	gc, err := s.groupContent(out)
	if err != nil {
		return Message{}, err
	}
	if out.Kind == KindRSVP {
		if err := s.store.View(func(tx *storage.Txn) error {
			m, err := tx.GroupMessage(sid(id), out.ReplyTo)
			if errors.Is(err, storage.ErrNotFound) || err == nil && m.Kind != KindEvent {
				return fmt.Errorf("%w: no event %x in the group", errs.ErrNotFound, out.ReplyTo[:6])
			}
			return err
		}); err != nil {
			return Message{}, err
		}
	}
	lg, ok := s.get(id)
	if !ok {
		return Message{}, fmt.Errorf("%w: not in group %s", errs.ErrInvalidGroup, id)
	}
	data, mid, err := s.sealGroupID(lg, gc)
	if err != nil {
		return Message{}, err
	}
	if !lg.enqueue(data) {
		s.log.Debug("group publish queue full; sync will carry it", "group", id)
	}
	ms, err := s.groupMessages(id, func(tx *storage.Txn) ([]storage.GroupMessage, error) {
		m, err := tx.GroupMessage(sid(id), mid)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil // a reaction or RSVP: a note, not a line
		}
		return []storage.GroupMessage{m}, err
	})
	if err != nil || len(ms) == 0 {
		return Message{GroupMessage: storage.GroupMessage{Group: sid(id), ID: mid, Sender: s.selfID(), Kind: out.Kind, Body: out.Body,
			ReplyTo: out.ReplyTo, Outbound: true}}, err
	}
	return ms[0], nil
}

// RenameGroup renames the group for every member (owner or admin).
func (s *Service) RenameGroup(_ context.Context, id group.ID, name string) error {
	if err := checkGroupName(name); err != nil {
		return err
	}
	lg, ok := s.get(id)
	if !ok {
		return fmt.Errorf("%w: not in group %s", errs.ErrInvalidGroup, id)
	}
	v := lg.view.Load()
	if r := v.rosters[v.latest].Role(s.self()); r != group.RoleOwner && r != group.RoleAdmin {
		return fmt.Errorf("%w: only the group's owner or an admin can rename it", errs.ErrNotAllowed)
	}
	data, _, err := s.sealGroupID(lg, &groupspb.GroupContent{Body: &groupspb.GroupContent_Rename{Rename: &groupspb.GroupRename{Name: name}}})
	if err != nil {
		return err
	}
	lg.enqueue(data)
	return nil
}

// sealGroup seals, stores and returns an envelope of ours.
func (s *Service) sealGroup(lg *liveGroup, gc *groupspb.GroupContent) ([]byte, error) {
	data, _, err := s.sealGroupID(lg, gc)
	return data, err
}

// sealGroupID seals gc as the next message of our chain in the newest epoch
// and stores, in one transaction, the advanced chain, the envelope and what
// it says; only then may it be published (sealing again from an older chain
// would reuse a message key).
func (s *Service) sealGroupID(lg *liveGroup, gc *groupspb.GroupContent) ([]byte, [32]byte, error) {
	defer s.lock(lg.id)()
	var (
		data   []byte
		mid    [32]byte
		events []event.Event
	)
	err := s.store.Update(func(tx *storage.Txn) error {
		events = events[:0]
		g, err := getGroup(tx, lg.id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupJoined {
			return fmt.Errorf("%w: not in group %s (%s)", errs.ErrInvalidGroup, lg.id, g.State)
		}
		chain, err := loadChain(tx, g)
		if err != nil {
			return err
		}
		latest := chain.latest()
		if !latest.IsMember(s.self()) {
			return fmt.Errorf("%w: not a member of epoch %d", errs.ErrInvalidGroup, latest.Epoch)
		}
		kb, err := tx.GroupEpochKey(g.ID, latest.Epoch)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: epoch %d of group %s", errs.ErrKeyPending, latest.Epoch, lg.id)
		}
		if err != nil {
			return err
		}
		gk, err := group.UnmarshalGroupKey(kb)
		if err != nil {
			return err
		}
		var sc *group.SendChain
		if b, err := tx.GroupSendChain(g.ID, latest.Epoch); err == nil {
			sc, err = group.UnmarshalSendChain(b, s.id.Signing())
			if err != nil {
				return err
			}
		} else if errors.Is(err, storage.ErrNotFound) {
			if sc, err = group.NewSendChain(gk, s.id.Signing()); err != nil {
				return err
			}
		} else {
			return err
		}
		now := s.clock.Now()
		gc.SentUnixNano = now.UnixNano()
		pt, err := proto.Marshal(gc)
		if err != nil {
			return err
		}
		env, err := sc.Seal(pt)
		if err != nil {
			return fmt.Errorf("%w: %w", errs.ErrTooLarge, err)
		}
		scb, err := sc.MarshalBinary()
		if err != nil {
			return err
		}
		if err := tx.PutGroupSendChain(g.ID, latest.Epoch, scb); err != nil {
			return err
		}
		if data, err = env.MarshalBinary(); err != nil {
			return err
		}
		mid = env.Hash()
		se := storage.GroupEnvelope{Group: g.ID, Epoch: env.Epoch, Sender: s.selfID(), Seq: env.Seq, ID: mid, Data: data, Received: now, Opened: true}
		if _, err := tx.PutGroupEnvelope(se); err != nil {
			return err
		}
		ev, _, err := s.applyGroupContent(tx, &g, chain, env, mid, gc, true, now)
		if ev != nil {
			events = append(events, *ev)
		}
		return err
	})
	if err != nil {
		return nil, mid, err
	}
	for _, e := range events {
		s.bus.Publish(e)
	}
	return data, mid, nil
}

// MessageSize is how many bytes a text message with body text takes on the
// wire (its sealed, signed envelope).
func MessageSize(text string) (int, error) {
	id, _ := group.NewGroup()
	sc, err := group.NewSendChain(group.GroupKey{Group: id, Epoch: 1, Key: group.NewEpochKey()}, keys.GeneratePrivateKey())
	if err != nil {
		return 0, err
	}
	pt, err := proto.Marshal(&groupspb.GroupContent{SentUnixNano: time.Now().UnixNano(),
		Body: &groupspb.GroupContent_Text{Text: &groupspb.GroupText{Body: text}}})
	if err != nil {
		return 0, err
	}
	env, err := sc.Seal(pt)
	if err != nil {
		return 0, err
	}
	data, err := env.MarshalBinary()
	return len(data), err
}
