package groups

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/content"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/node/internal/input"
	"github.com/backchannel/backchannel/storage"
	"google.golang.org/protobuf/proto"
)

// GroupSend seals a message with this node's chain of the group's newest
// epoch, stores it and publishes it on the group's topic (if the mesh is not
// there yet, members get it through sync).
func (s *Service) GroupSend(_ context.Context, id group.ID, out Outgoing) (Message, error) {
	if err := checkInput(out, time.Now()); err != nil {
		return Message{}, errs.Say(errs.ErrInvalidGroup, err, nil)
	}
	gc, err := content.Encode(out, s.cfg.MaxTextBytes)
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
	f, mid, err := s.sealGroupID(lg, gc)
	if err != nil {
		return Message{}, err
	}
	if !lg.pub.Enqueue(f) {
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
		v := lg.gate.View()
		me := Member{Peer: s.selfID(), Role: v.Rosters[v.Latest].Role(s.self()), Name: s.profileName(), Display: youDisplay, Me: true}
		return Message{GroupMessage: storage.GroupMessage{Group: sid(id), ID: mid, Sender: s.selfID(), Kind: out.Kind, Body: out.Body,
			ReplyTo: out.ReplyTo, Outbound: true}, From: me}, err
	}
	return ms[0], nil
}

// RenameGroup renames the group for every member (owner or admin).
func (s *Service) RenameGroup(_ context.Context, id group.ID, name string) error {
	if err := content.CheckName(name); err != nil {
		return err
	}
	lg, ok := s.get(id)
	if !ok {
		return fmt.Errorf("%w: not in group %s", errs.ErrInvalidGroup, id)
	}
	v := lg.gate.View()
	if r := v.Rosters[v.Latest].Role(s.self()); r != group.RoleOwner && r != group.RoleAdmin {
		return fmt.Errorf("%w: only the group's owner or an admin can rename it", errs.ErrNotAllowed)
	}
	f, _, err := s.sealGroupID(lg, &groupspb.GroupContent{Body: &groupspb.GroupContent_Rename{Rename: &groupspb.GroupRename{Name: name}}})
	if err != nil {
		return err
	}
	lg.pub.Enqueue(f)
	return nil
}

// sealGroup seals and stores an envelope of ours, and returns it framed
// for its epoch's topic.
func (s *Service) sealGroup(lg *liveGroup, gc *groupspb.GroupContent) (framed, error) {
	f, _, err := s.sealGroupID(lg, gc)
	return f, err
}

// sealGroupID seals gc as the next message of our chain in the newest epoch
// and stores, in one transaction, the advanced chain, the envelope and what
// it says; only then may it be published (sealing again from an older chain
// would reuse a message key). It returns the envelope framed for its
// epoch's topic, and its ID.
func (s *Service) sealGroupID(lg *liveGroup, gc *groupspb.GroupContent) (framed, [32]byte, error) {
	f, mid, _, err := s.sealGroupWhen(lg, gc, nil)
	return f, mid, err
}

// sealGroupWhen is sealGroupID when want (nil: always), asked in the same
// transaction with the newest epoch, says so; sealed reports whether it
// did.
func (s *Service) sealGroupWhen(lg *liveGroup, gc *groupspb.GroupContent, want func(tx *storage.Txn, g storage.Group, epoch uint64) (bool, error)) (f framed, mid [32]byte, sealed bool, err error) {
	defer s.lock(lg.id)()
	var events []event.Event
	err = s.store.Update(func(tx *storage.Txn) error {
		events, sealed = events[:0], false
		g, err := getGroup(tx, lg.id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupJoined {
			return fmt.Errorf("%w: not in group %s (%s)", errs.ErrInvalidGroup, lg.id, g.State)
		}
		chain, err := rosterchain.Load(tx, g)
		if err != nil {
			return err
		}
		latest := chain.Latest()
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
		if want != nil {
			if ok, err := want(tx, g, latest.Epoch); err != nil || !ok {
				return err
			}
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
		data, err := env.MarshalBinary()
		if err != nil {
			return err
		}
		if f.data, err = gk.Frame(env); err != nil {
			return err
		}
		f.epoch = env.Epoch
		mid = env.Hash()
		se := storage.GroupEnvelope{Group: g.ID, Epoch: env.Epoch, Sender: s.selfID(), Seq: env.Seq, ID: mid, Data: data, Received: now, Opened: true}
		if _, err := tx.PutGroupEnvelope(se); err != nil {
			return err
		}
		ev, _, err := s.applyGroupContent(tx, &g, chain, env, mid, gc, true, now)
		if ev != nil {
			events = append(events, *ev)
		}
		sealed = err == nil
		return err
	})
	if err != nil || !sealed {
		return framed{}, mid, false, err
	}
	for _, e := range events {
		s.bus.Publish(e)
	}
	return f, mid, true, nil
}

// MessageSize is how many bytes a text message with body text takes on the
// wire (its sealed, signed envelope).
func MessageSize(text string) (int, error) { return content.MessageSize(text) }

// checkInput refuses what the user should not send: a blank text or event
// title, a reaction that is not one emoji, an event whose time has passed.
// Only sending checks it: received messages keep the rules of content.
func checkInput(out Outgoing, now time.Time) error {
	switch out.Kind {
	case "", KindText, KindReply:
		return input.Text(out.Body)
	case KindReaction:
		return input.Reaction(out.Body)
	case KindEvent:
		if err := input.Text(out.Body); err != nil {
			return err
		}
		return input.Start(out.Start, now)
	}
	return nil
}
