package groups

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/peer"
)

// removeOnRequest removes p, who declined or left, if this node may and p
// is still a member.
func (s *Service) removeOnRequest(id group.ID, p peer.ID, why string) {
	err := s.RemoveGroupMember(s.ctx, id, p)
	switch {
	case err == nil:
		s.log.Info("group: member removed", "group", id, "member", p, "because", why)
	case errors.Is(err, errs.ErrNotAllowed) || errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrInvalidGroup) || errors.Is(err, errs.ErrClosed):
	default:
		s.log.Warn("group: member not removed", "group", id, "member", p, "err", err)
	}
}

// AcceptGroupInvite joins a group this node was invited to: it subscribes
// to the group's topic and fetches the history from the epoch that added it.
func (s *Service) AcceptGroupInvite(_ context.Context, id group.ID) (Info, error) {
	if !s.started.Load() {
		return Info{}, fmt.Errorf("%w: not started", errs.ErrClosed)
	}
	err := s.store.Update(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupInvited {
			return fmt.Errorf("%w: no pending invitation to group %s (%s)", errs.ErrInvalidGroup, id, g.State)
		}
		g.State, g.Updated = storage.GroupJoined, time.Now().UTC()
		return tx.PutGroup(g)
	})
	if err != nil {
		return Info{}, err
	}
	if err := s.joinGroupLive(id); err != nil {
		return Info{}, err
	}
	s.bus.Publish(event.Event{Type: event.GroupMember, Group: &event.Group{Group: id, State: storage.GroupJoined.String()}})
	return s.Group(id)
}

// DeclineGroupInvite declines an invitation: the inviter is told (and
// removes us from the roster); the group's secrets are deleted.
func (s *Service) DeclineGroupInvite(id group.ID) error {
	var notify map[peer.ID]bool
	err := s.store.Update(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupInvited {
			return fmt.Errorf("%w: no pending invitation to group %s (%s)", errs.ErrInvalidGroup, id, g.State)
		}
		g.State, g.Secret, g.Updated = storage.GroupDeclined, nil, time.Now().UTC()
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		if err := tx.DeleteGroupSecrets(g.ID); err != nil {
			return err
		}
		notify, err = s.queueControls(tx, []queued{{g.Inviter, ControlDecline, &groupspb.GroupDecline{Group: id[:]}}})
		return err
	})
	if err != nil {
		return err
	}
	s.kickOutbox(notify)
	s.bus.Publish(event.Event{Type: event.GroupMember, Group: &event.Group{Group: id, State: storage.GroupDeclined.String()}})
	return nil
}

// LeaveGroup leaves a group: it tells the group, then (as owner or admin)
// signs an epoch without this node itself, the owner handing ownership to
// an admin or else a member, or (as a member) asks the owner and admins to.
// The history stays; the group's secrets are deleted.
func (s *Service) LeaveGroup(ctx context.Context, id group.ID) error {
	var latest *group.Roster
	if err := s.store.View(func(tx *storage.Txn) error {
		g, chain, joined, err := joinedChain(tx, id)
		if err != nil {
			return err
		}
		if !joined {
			return fmt.Errorf("%w: not in group %s (%s)", errs.ErrInvalidGroup, id, g.State)
		}
		latest = chain.Latest()
		return nil
	}); err != nil {
		return err
	}
	if lg, ok := s.get(id); ok {
		if f, err := s.sealGroup(lg, &groupspb.GroupContent{Body: &groupspb.GroupContent_Left{Left: &groupspb.GroupLeft{}}}); err == nil {
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			if err := lg.Publish(pctx, f); err != nil {
				s.log.Debug("group: leave notice not published", "group", id, "err", err)
			}
			cancel()
		}
	}
	self := s.self()
	var err error
	switch latest.Role(self) {
	case group.RoleOwner, group.RoleAdmin:
		if len(latest.Members) > 1 {
			err = s.changeRoster(ctx, id, func(r *group.Roster) ([]group.Member, error) {
				ms := slices.DeleteFunc(slices.Clone(r.Members), func(m group.Member) bool { return m.Key == self })
				if r.Role(self) == group.RoleOwner {
					heir := slices.IndexFunc(ms, func(m group.Member) bool { return m.Role == group.RoleAdmin })
					heir = max(heir, 0)
					ms[heir].Role = group.RoleOwner
				}
				return ms, nil
			}, nil)
		}
	}
	if err != nil {
		return err
	}
	var notify map[peer.ID]bool
	err = s.store.Update(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		g.State, g.Secret, g.Updated = storage.GroupLeft, nil, time.Now().UTC()
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		if err := tx.DeleteGroupSecrets(g.ID); err != nil {
			return err
		}
		if r := latest.Role(self); r == group.RoleOwner || r == group.RoleAdmin {
			return nil
		}
		var qs []queued
		for _, m := range latest.Members {
			if m.Role == group.RoleOwner || m.Role == group.RoleAdmin {
				qs = append(qs, queued{m.Key.PeerID(), ControlLeave, &groupspb.GroupLeave{Group: id[:]}})
			}
		}
		notify, err = s.queueControls(tx, qs)
		return err
	})
	if err != nil {
		return err
	}
	s.kickOutbox(notify)
	s.stopGroupLive(id)
	s.bus.Publish(event.Event{Type: event.GroupMember, Group: &event.Group{Group: id, State: storage.GroupLeft.String()}})
	return nil
}
