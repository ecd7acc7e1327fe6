package groups

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/content"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/storage"
)

// CreateGroup makes a private group owned by this node, alone in it at
// epoch 0, and joins its topic. Invite members with InviteToGroup.
func (s *Service) CreateGroup(_ context.Context, name string) (Info, error) {
	if err := content.CheckName(name); err != nil {
		return Info{}, err
	}
	if !s.started.Load() {
		return Info{}, fmt.Errorf("%w: not started", errs.ErrClosed)
	}
	id, secret := group.NewGroup()
	r, err := group.Genesis(s.id.Signing(), id, []group.Member{{Key: s.self(), Role: group.RoleOwner}})
	if err != nil {
		return Info{}, err
	}
	rb, err := r.MarshalBinary()
	if err != nil {
		return Info{}, err
	}
	kb, err := group.GroupKey{Group: id, Epoch: 0, Key: group.NewEpochKey()}.MarshalBinary()
	if err != nil {
		return Info{}, err
	}
	sb, _ := secret.MarshalBinary()
	now := time.Now().UTC()
	g := storage.Group{ID: sid(id), Secret: sb, Name: name, State: storage.GroupJoined, Created: now, Updated: now}
	err = s.store.Update(func(tx *storage.Txn) error {
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		if err := tx.PutGroupRoster(g.ID, 0, rb); err != nil {
			return err
		}
		return tx.PutGroupEpochKey(g.ID, 0, kb)
	})
	if err != nil {
		return Info{}, err
	}
	if err := s.joinGroupLive(id); err != nil {
		return Info{}, err
	}
	return s.Group(id)
}

// InviteToGroup adds peers to the group in a new epoch and sends each an
// invitation over their 1:1 session; every member of the new epoch gets its
// key. Only the owner or an admin can: others ask one of them. The invitees
// count as members from that epoch on; one who declines is removed again.
func (s *Service) InviteToGroup(ctx context.Context, id group.ID, peers ...peer.ID) error {
	if len(peers) == 0 {
		return fmt.Errorf("%w: nobody to invite", errs.ErrInvalidGroup)
	}
	adds := map[keys.PublicKey]bool{}
	for _, p := range peers {
		if p == s.selfID() {
			return errs.ErrSelf
		}
		pk, err := peerKey(p)
		if err != nil {
			return err
		}
		adds[pk] = true
	}
	return s.changeRoster(ctx, id, func(latest *group.Roster) ([]group.Member, error) {
		ms := slices.Clone(latest.Members)
		for pk := range adds {
			if latest.IsMember(pk) {
				return nil, fmt.Errorf("%w: %s is already a member", errs.ErrInvalidGroup, pk.PeerID())
			}
			ms = append(ms, group.Member{Key: pk, Role: group.RoleMember})
		}
		return ms, nil
	}, adds)
}

// AddGroupMember is InviteToGroup for one peer: an owner or admin adds a
// member.
func (s *Service) AddGroupMember(ctx context.Context, id group.ID, p peer.ID) error {
	return s.InviteToGroup(ctx, id, p)
}

// RemoveGroupMember starts a new epoch without p (owner or admin; only the
// owner removes an admin). p never gets that epoch's key, and is told it
// was removed.
func (s *Service) RemoveGroupMember(ctx context.Context, id group.ID, p peer.ID) error {
	pk, err := peerKey(p)
	if err != nil {
		return err
	}
	if p == s.selfID() {
		return fmt.Errorf("%w: leave the group instead", errs.ErrSelf)
	}
	return s.changeRoster(ctx, id, func(latest *group.Roster) ([]group.Member, error) {
		switch latest.Role(pk) {
		case group.RoleNone:
			return nil, fmt.Errorf("%w: %s is not a member", errs.ErrNotFound, p)
		case group.RoleOwner:
			return nil, fmt.Errorf("%w: the owner cannot be removed", errs.ErrNotAllowed)
		case group.RoleAdmin:
			if latest.Role(s.self()) != group.RoleOwner {
				return nil, fmt.Errorf("%w: only the owner removes an admin", errs.ErrNotAllowed)
			}
		}
		return slices.DeleteFunc(slices.Clone(latest.Members), func(m group.Member) bool { return m.Key == pk }), nil
	}, nil)
}

// GrantGroupAdmin makes a member an admin (admin true) or a plain member
// again, in a new epoch. Only the owner can.
func (s *Service) GrantGroupAdmin(ctx context.Context, id group.ID, p peer.ID, admin bool) error {
	pk, err := peerKey(p)
	if err != nil {
		return err
	}
	role := group.RoleMember
	if admin {
		role = group.RoleAdmin
	}
	return s.changeRoster(ctx, id, func(latest *group.Roster) ([]group.Member, error) {
		if latest.Role(s.self()) != group.RoleOwner {
			return nil, fmt.Errorf("%w: only the group's owner grants admin", errs.ErrNotAllowed)
		}
		switch latest.Role(pk) {
		case group.RoleNone:
			return nil, fmt.Errorf("%w: %s is not a member", errs.ErrNotFound, p)
		case group.RoleOwner:
			return nil, fmt.Errorf("%w: that is the owner", errs.ErrInvalidGroup)
		}
		ms := slices.Clone(latest.Members)
		for i := range ms {
			if ms[i].Key == pk {
				ms[i].Role = role
			}
		}
		return ms, nil
	}, nil)
}

// Rekey starts a new epoch with the same members and a fresh key (owner or
// admin).
func (s *Service) Rekey(ctx context.Context, id group.ID) error {
	return s.changeRoster(ctx, id, func(latest *group.Roster) ([]group.Member, error) {
		return slices.Clone(latest.Members), nil
	}, nil)
}

// changeRoster makes and signs the next epoch's roster from the newest one
// with edit, stores it with a fresh epoch key, and queues in one transaction
// the key for every member of the new epoch, an invitation for each peer in
// invite, and a notice for each member removed. Only an owner or admin can
// (group.Roster.Next enforces what an admin may change).
func (s *Service) changeRoster(_ context.Context, id group.ID, edit func(latest *group.Roster) ([]group.Member, error), invite map[keys.PublicKey]bool) error {
	if !s.started.Load() {
		return fmt.Errorf("%w: not started", errs.ErrClosed)
	}
	unlock := s.lock(id)
	var (
		next   *group.Roster
		prev   *group.Roster
		notify map[peer.ID]bool
	)
	err := s.store.Update(func(tx *storage.Txn) error {
		g, chain, joined, err := joinedChain(tx, id)
		if err != nil {
			return err
		}
		if !joined {
			return fmt.Errorf("%w: not in group %s (%s)", errs.ErrInvalidGroup, id, g.State)
		}
		prev = chain.Latest()
		if r := prev.Role(s.self()); r != group.RoleOwner && r != group.RoleAdmin {
			return fmt.Errorf("%w: only the group's owner or an admin can change its members", errs.ErrNotAllowed)
		}
		members, err := edit(prev)
		if err != nil {
			return err
		}
		next, err = prev.Next(s.id.Signing(), members)
		if err != nil {
			if errors.Is(err, group.ErrBrokenChain) {
				return fmt.Errorf("%w: %w", errs.ErrNotAllowed, err)
			}
			return fmt.Errorf("%w: %w", errs.ErrInvalidGroup, err)
		}
		rb, err := next.MarshalBinary()
		if err != nil {
			return err
		}
		gk := group.GroupKey{Group: id, Epoch: next.Epoch, Key: group.NewEpochKey()}
		kb, err := gk.MarshalBinary()
		if err != nil {
			return err
		}
		if err := tx.PutGroupRoster(g.ID, next.Epoch, rb); err != nil {
			return err
		}
		if err := tx.PutGroupEpochKey(g.ID, next.Epoch, kb); err != nil {
			return err
		}
		var qs []queued
		for pk := range invite {
			qs = append(qs, queued{pk.PeerID(), ControlInvite, &groupspb.GroupInvite{
				Group: id[:], Secret: g.Secret, Name: g.Name, Roster: rb}})
		}
		for _, m := range next.Members {
			if m.Key != s.self() {
				qs = append(qs, queued{m.Key.PeerID(), ControlKey, &groupspb.GroupKey{Key: kb, Roster: rb}})
			}
		}
		for _, m := range prev.Members {
			if m.Key != s.self() && !next.IsMember(m.Key) {
				qs = append(qs, queued{m.Key.PeerID(), ControlRemoved, &groupspb.GroupRemoved{Group: id[:], Roster: rb}})
			}
		}
		notify, err = s.queueControls(tx, qs)
		return err
	})
	unlock()
	if err != nil {
		return err
	}
	s.kickOutbox(notify)
	s.rosterChanged(id, prev, next)
	return nil
}

// rosterChanged refreshes a live group after its newest roster changed and
// tells the subscribers.
func (s *Service) rosterChanged(id group.ID, prev, next *group.Roster) {
	s.refreshGroup(id)
	s.bus.Publish(event.Event{Type: event.GroupMember, Group: &event.Group{Group: id, Epoch: next.Epoch, State: storage.GroupJoined.String()}})
	if prev != nil && next.Signer == s.self() {
		s.bus.Publish(event.Event{Type: event.GroupEpoch, Group: &event.Group{Group: id, Epoch: next.Epoch}})
	}
}

// reapply makes again, on top of the roster that beat ours, the change our
// lost roster made: the members it added (invited again) or removed and the
// roles it set, within what this node may still do. Nothing happens if the
// winner already made the same change.
func (s *Service) reapply(id group.ID, prev, lost *group.Roster) {
	invite := map[keys.PublicKey]bool{}
	for _, m := range lost.Members {
		if !prev.IsMember(m.Key) {
			invite[m.Key] = true
		}
	}
	err := s.changeRoster(s.ctx, id, func(latest *group.Roster) ([]group.Member, error) {
		ms := slices.Clone(latest.Members)
		changed := false
		for _, m := range lost.Members {
			if latest.IsMember(m.Key) {
				delete(invite, m.Key) // the winner has them: no new invitation
			}
			if prev.Role(m.Key) != m.Role && latest.Role(m.Key) != m.Role {
				ms = slices.DeleteFunc(ms, func(x group.Member) bool { return x.Key == m.Key })
				ms = append(ms, m)
				changed = true
			}
		}
		for _, m := range prev.Members {
			if !lost.IsMember(m.Key) && latest.IsMember(m.Key) {
				ms = slices.DeleteFunc(ms, func(x group.Member) bool { return x.Key == m.Key })
				changed = true
			}
		}
		if !changed {
			return nil, errNothingToDo
		}
		return ms, nil
	}, invite)
	if err != nil && !errors.Is(err, errNothingToDo) {
		s.log.Warn("group: could not make a lost change again", "group", id, "err", err)
	}
}

var errNothingToDo = errors.New("nothing to do")
