package node

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// CreateGroup makes a private group owned by this node, alone in it at
// epoch 0, and joins its topic. Invite members with InviteToGroup.
func (n *Node) CreateGroup(_ context.Context, name string) (GroupInfo, error) {
	if err := checkGroupName(name); err != nil {
		return GroupInfo{}, err
	}
	if !n.started.Load() {
		return GroupInfo{}, fmt.Errorf("%w: not started", ErrClosed)
	}
	id, secret := group.NewGroup()
	r, err := group.Genesis(n.id.Signing(), id, []group.Member{{Key: n.self(), Role: group.RoleOwner}})
	if err != nil {
		return GroupInfo{}, err
	}
	rb, err := r.MarshalBinary()
	if err != nil {
		return GroupInfo{}, err
	}
	kb, err := group.GroupKey{Group: id, Epoch: 0, Key: group.NewEpochKey()}.MarshalBinary()
	if err != nil {
		return GroupInfo{}, err
	}
	sb, _ := secret.MarshalBinary()
	now := time.Now().UTC()
	g := storage.Group{ID: sid(id), Secret: sb, Name: name, State: storage.GroupJoined, Created: now, Updated: now}
	err = n.store.Update(func(tx *storage.Txn) error {
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		if err := tx.PutGroupRoster(g.ID, 0, rb); err != nil {
			return err
		}
		return tx.PutGroupEpochKey(g.ID, 0, kb)
	})
	if err != nil {
		return GroupInfo{}, err
	}
	if err := n.joinGroupLive(id); err != nil {
		return GroupInfo{}, err
	}
	return n.Group(id)
}

// InviteToGroup adds peers to the group in a new epoch and sends each an
// invitation over their 1:1 session; every member of the new epoch gets its
// key. Only the owner or an admin can: others ask one of them. The invitees
// count as members from that epoch on; one who declines is removed again.
func (n *Node) InviteToGroup(ctx context.Context, id group.ID, peers ...peer.ID) error {
	if len(peers) == 0 {
		return fmt.Errorf("%w: nobody to invite", ErrInvalidGroup)
	}
	adds := map[keys.PublicKey]bool{}
	for _, p := range peers {
		if p == n.ID() {
			return ErrSelf
		}
		pk, err := peerKey(p)
		if err != nil {
			return err
		}
		adds[pk] = true
	}
	return n.changeRoster(ctx, id, func(latest *group.Roster) ([]group.Member, error) {
		ms := slices.Clone(latest.Members)
		for pk := range adds {
			if latest.IsMember(pk) {
				return nil, fmt.Errorf("%w: %s is already a member", ErrInvalidGroup, pk.PeerID())
			}
			ms = append(ms, group.Member{Key: pk, Role: group.RoleMember})
		}
		return ms, nil
	}, adds)
}

// AddGroupMember is InviteToGroup for one peer: an owner or admin adds a
// member.
func (n *Node) AddGroupMember(ctx context.Context, id group.ID, p peer.ID) error {
	return n.InviteToGroup(ctx, id, p)
}

// RemoveGroupMember starts a new epoch without p (owner or admin; only the
// owner removes an admin). p never gets that epoch's key, and is told it
// was removed.
func (n *Node) RemoveGroupMember(ctx context.Context, id group.ID, p peer.ID) error {
	pk, err := peerKey(p)
	if err != nil {
		return err
	}
	if p == n.ID() {
		return fmt.Errorf("%w: leave the group instead", ErrSelf)
	}
	return n.changeRoster(ctx, id, func(latest *group.Roster) ([]group.Member, error) {
		switch latest.Role(pk) {
		case group.RoleNone:
			return nil, fmt.Errorf("%w: %s is not a member", ErrNotFound, p)
		case group.RoleOwner:
			return nil, fmt.Errorf("%w: the owner cannot be removed", ErrNotAllowed)
		case group.RoleAdmin:
			if latest.Role(n.self()) != group.RoleOwner {
				return nil, fmt.Errorf("%w: only the owner removes an admin", ErrNotAllowed)
			}
		}
		return slices.DeleteFunc(slices.Clone(latest.Members), func(m group.Member) bool { return m.Key == pk }), nil
	}, nil)
}

// GrantGroupAdmin makes a member an admin (admin true) or a plain member
// again, in a new epoch. Only the owner can.
func (n *Node) GrantGroupAdmin(ctx context.Context, id group.ID, p peer.ID, admin bool) error {
	pk, err := peerKey(p)
	if err != nil {
		return err
	}
	role := group.RoleMember
	if admin {
		role = group.RoleAdmin
	}
	return n.changeRoster(ctx, id, func(latest *group.Roster) ([]group.Member, error) {
		if latest.Role(n.self()) != group.RoleOwner {
			return nil, fmt.Errorf("%w: only the group's owner grants admin", ErrNotAllowed)
		}
		switch latest.Role(pk) {
		case group.RoleNone:
			return nil, fmt.Errorf("%w: %s is not a member", ErrNotFound, p)
		case group.RoleOwner:
			return nil, fmt.Errorf("%w: that is the owner", ErrInvalidGroup)
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
func (n *Node) Rekey(ctx context.Context, id group.ID) error {
	return n.changeRoster(ctx, id, func(latest *group.Roster) ([]group.Member, error) {
		return slices.Clone(latest.Members), nil
	}, nil)
}

// changeRoster makes and signs the next epoch's roster from the newest one
// with edit, stores it with a fresh epoch key, and queues in one transaction
// the key for every member of the new epoch, an invitation for each peer in
// invite, and a notice for each member removed. Only an owner or admin can
// (group.Roster.Next enforces what an admin may change).
func (n *Node) changeRoster(_ context.Context, id group.ID, edit func(latest *group.Roster) ([]group.Member, error), invite map[keys.PublicKey]bool) error {
	if !n.started.Load() {
		return fmt.Errorf("%w: not started", ErrClosed)
	}
	l := n.groups.lock(id)
	l.Lock()
	var (
		next   *group.Roster
		prev   *group.Roster
		notify map[peer.ID]bool
	)
	err := n.store.Update(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupJoined {
			return fmt.Errorf("%w: not in group %s (%s)", ErrInvalidGroup, id, g.State)
		}
		chain, err := loadChain(tx, g)
		if err != nil {
			return err
		}
		prev = chain.latest()
		if r := prev.Role(n.self()); r != group.RoleOwner && r != group.RoleAdmin {
			return fmt.Errorf("%w: only the group's owner or an admin can change its members", ErrNotAllowed)
		}
		members, err := edit(prev)
		if err != nil {
			return err
		}
		next, err = prev.Next(n.id.Signing(), members)
		if err != nil {
			if errors.Is(err, group.ErrBrokenChain) {
				return fmt.Errorf("%w: %w", ErrNotAllowed, err)
			}
			return fmt.Errorf("%w: %w", ErrInvalidGroup, err)
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
			qs = append(qs, queued{pk.PeerID(), &dmpb.Content{Body: &dmpb.Content_GroupInvite{GroupInvite: &dmpb.GroupInvite{
				Group: id[:], Secret: g.Secret, Name: g.Name, Roster: rb}}}})
		}
		for _, m := range next.Members {
			if m.Key != n.self() {
				qs = append(qs, queued{m.Key.PeerID(), &dmpb.Content{Body: &dmpb.Content_GroupKey{GroupKey: &dmpb.GroupKey{Key: kb, Roster: rb}}}})
			}
		}
		for _, m := range prev.Members {
			if m.Key != n.self() && !next.IsMember(m.Key) {
				qs = append(qs, queued{m.Key.PeerID(), &dmpb.Content{Body: &dmpb.Content_GroupRemoved{GroupRemoved: &dmpb.GroupRemoved{Group: id[:], Roster: rb}}}})
			}
		}
		notify, err = n.queueControls(tx, qs)
		return err
	})
	l.Unlock()
	if err != nil {
		return err
	}
	n.kickOutbox(notify)
	n.rosterChanged(id, prev, next)
	return nil
}

// rosterChanged refreshes a live group after its newest roster changed and
// tells the subscribers.
func (n *Node) rosterChanged(id group.ID, prev, next *group.Roster) {
	n.refreshGroup(id)
	n.bus.Publish(Event{Type: EventGroupMember, Group: &GroupEvent{Group: id, Epoch: next.Epoch, State: storage.GroupJoined.String()}})
	if prev != nil && next.Signer == n.self() {
		n.bus.Publish(Event{Type: EventGroupEpoch, Group: &GroupEvent{Group: id, Epoch: next.Epoch}})
	}
}

// adoption is what adoptRoster did.
type adoption int

const (
	adoptHeld     adoption = iota // the roster was already in the chain
	adoptAppended                 // the roster extends the chain
	adoptSwitched                 // the roster won a fork: later epochs were dropped
	adoptLost                     // a competing roster of that epoch wins: ignored
	adoptGap                      // rosters between ours and it are missing
	adoptStale                    // before our base epoch
)

// adoptRoster checks that r follows the chain and stores it. A roster for
// an epoch the chain already holds that is a different, valid successor of
// the same predecessor is a fork: the one that Beats the other is kept, and
// every epoch after a replaced roster is dropped (its rosters, keys and send
// chain), since it followed the loser. chain is updated in place. lost, if
// not nil, is the replaced roster.
func adoptRoster(tx *storage.Txn, id group.ID, chain *rosterChain, r *group.Roster) (adoption, *group.Roster, error) {
	if r.Group != id {
		return 0, nil, fmt.Errorf("%w: roster of another group", ErrProtocol)
	}
	if r.Epoch < chain.base {
		return adoptStale, nil, nil
	}
	if cur := chain.at(r.Epoch); cur != nil && cur.Hash() == r.Hash() {
		return adoptHeld, nil, nil
	}
	if r.Epoch == chain.base {
		return adoptLost, nil, nil // our base came with the invitation we trust
	}
	if r.Epoch > chain.latest().Epoch+1 {
		return adoptGap, nil, nil
	}
	if err := r.VerifyFollows(chain.at(r.Epoch - 1)); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	rb, err := r.MarshalBinary()
	if err != nil {
		return 0, nil, err
	}
	cur := chain.at(r.Epoch)
	if cur != nil {
		if !r.Beats(cur) {
			return adoptLost, nil, nil
		}
		if err := tx.DeleteGroupRostersFrom(sid(id), r.Epoch); err != nil {
			return 0, nil, err
		}
		chain.rosters = chain.rosters[:r.Epoch-chain.base]
	}
	if err := tx.PutGroupRoster(sid(id), r.Epoch, rb); err != nil {
		return 0, nil, err
	}
	chain.rosters = append(chain.rosters, r)
	if cur != nil {
		return adoptSwitched, cur, nil
	}
	return adoptAppended, nil, nil
}

// reapply makes again, on top of the roster that beat ours, the change our
// lost roster made: the members it added (invited again) or removed and the
// roles it set, within what this node may still do. Nothing happens if the
// winner already made the same change.
func (n *Node) reapply(id group.ID, prev, lost *group.Roster) {
	invite := map[keys.PublicKey]bool{}
	for _, m := range lost.Members {
		if !prev.IsMember(m.Key) {
			invite[m.Key] = true
		}
	}
	err := n.changeRoster(n.ctx, id, func(latest *group.Roster) ([]group.Member, error) {
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
		n.log.Warn("group: could not make a lost change again", "group", id, "err", err)
	}
}

var errNothingToDo = errors.New("nothing to do")
