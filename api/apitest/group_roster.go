package apitest

import (
	"context"
	"fmt"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/group"
)

// changeLocked checks that this node may change the roster of a joined
// group (needOwner: only the owner) and moves its epoch on.
func (f *Fake) changeLocked(id group.ID, needOwner bool, edit func(g *fakeGroup) error) error {
	g, err := f.findLocked(id)
	if err != nil {
		return err
	}
	if g.info.State != "joined" {
		return fmt.Errorf("%w: not in group %s (%s)", api.ErrInvalidGroup, id, g.info.State)
	}
	role := f.roleLocked(g)
	if role != group.RoleOwner && (needOwner || role != group.RoleAdmin) {
		return fmt.Errorf("%w: only the group's owner or an admin can do that", api.ErrNotAllowed)
	}
	before := slices.Clone(g.members)
	if err := edit(g); err != nil {
		return err
	}
	g.info.Epoch++
	if c := diffMembers(before, g.members); c != nil {
		c.Epoch, c.SignerID = g.info.Epoch, f.self.String()
		g.changes = append(g.changes, *c)
	}
	return nil
}

// diffMembers is the roster change from before to after, nil if none.
func diffMembers(before, after []member) *api.GroupChange {
	c := api.GroupChange{Added: []string{}, Removed: []string{}, Admins: []string{}, NotAdmin: []string{}}
	for _, m := range after {
		i := slices.IndexFunc(before, func(b member) bool { return b.peer == m.peer })
		switch {
		case i < 0:
			c.Added = append(c.Added, m.peer.String())
		case before[i].role != group.RoleAdmin && m.role == group.RoleAdmin:
			c.Admins = append(c.Admins, m.peer.String())
		case before[i].role == group.RoleAdmin && m.role == group.RoleMember:
			c.NotAdmin = append(c.NotAdmin, m.peer.String())
		}
	}
	for _, b := range before {
		if !slices.ContainsFunc(after, func(m member) bool { return m.peer == b.peer }) {
			c.Removed = append(c.Removed, b.peer.String())
		}
	}
	if len(c.Added)+len(c.Removed)+len(c.Admins)+len(c.NotAdmin) == 0 {
		return nil
	}
	return &c
}

// GroupChanges implements api.GroupBackend.
func (f *Fake) GroupChanges(id group.ID) ([]api.GroupChange, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.findLocked(id)
	if err != nil {
		return nil, err
	}
	return slices.Clone(g.changes), nil
}

// InviteToGroup implements api.GroupBackend.
func (f *Fake) InviteToGroup(ctx context.Context, id group.ID, peers ...peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changeLocked(id, false, func(g *fakeGroup) error {
		for _, p := range peers {
			if memberIndex(g, p) >= 0 {
				return fmt.Errorf("%w: %s is already a member", api.ErrInvalidGroup, p)
			}
		}
		for _, p := range peers {
			g.members = append(g.members, member{p, group.RoleMember})
		}
		return nil
	})
}

// RemoveGroupMember implements api.GroupBackend.
func (f *Fake) RemoveGroupMember(ctx context.Context, id group.ID, p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changeLocked(id, false, func(g *fakeGroup) error {
		i := memberIndex(g, p)
		if i < 0 {
			return fmt.Errorf("%w: %s is not a member", api.ErrNotFound, p)
		}
		if g.members[i].role == group.RoleOwner {
			return fmt.Errorf("%w: the owner cannot be removed", api.ErrNotAllowed)
		}
		g.members = slices.Delete(g.members, i, i+1)
		return nil
	})
}

// GrantGroupAdmin implements api.GroupBackend: only the owner may.
func (f *Fake) GrantGroupAdmin(ctx context.Context, id group.ID, p peer.ID, admin bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changeLocked(id, true, func(g *fakeGroup) error {
		i := memberIndex(g, p)
		if i < 0 {
			return fmt.Errorf("%w: %s is not a member", api.ErrNotFound, p)
		}
		g.members[i].role = group.RoleMember
		if admin {
			g.members[i].role = group.RoleAdmin
		}
		return nil
	})
}

// Rekey implements api.GroupBackend.
func (f *Fake) Rekey(ctx context.Context, id group.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changeLocked(id, false, func(*fakeGroup) error { return nil })
}
