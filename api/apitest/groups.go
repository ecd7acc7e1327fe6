package apitest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/group"
)

// fakeGroup is a group as the fake keeps it: no keys, no network. The
// roster is a list of members; every roster change moves the epoch on.
type fakeGroup struct {
	id      group.ID
	info    api.Group // Role and MemberCount are filled in by groupLocked
	members []member
	lines   []api.GroupMessage // oldest first
	changes []api.GroupChange  // oldest first
}

// member is one member of a fake group's roster.
type member struct {
	peer peer.ID
	role group.Role
}

// GroupID is the ID of the n-th group the fake makes (from 1).
func GroupID(n byte) group.ID {
	var id group.ID
	id[0], id[31] = 0x9a, n
	return id
}

// GroupMessageID is the fake's n-th group message ID (from 1).
func GroupMessageID(n byte) [32]byte {
	var id [32]byte
	id[0], id[31] = 0x7e, n
	return id
}

// AddGroupInvite makes inviter (the owner) invite this node to a group:
// the group is "invited" and a "group_invite" event is emitted.
func (f *Fake) AddGroupInvite(name string, inviter peer.ID) group.ID {
	f.mu.Lock()
	g := f.addGroupLocked(name, "invited", member{inviter, group.RoleOwner}, member{f.self, group.RoleMember})
	g.info.Epoch, g.info.InviterID = 1, inviter.String()
	now := f.Now
	f.mu.Unlock()
	f.Emit(api.Event{Type: "group_invite", PeerID: inviter.String(), Group: &api.GroupEvent{GroupID: g.id.String(), Epoch: 1, State: "invited"}, Time: at(now)})
	return g.id
}

func (f *Fake) addGroupLocked(name, state string, members ...member) *fakeGroup {
	f.nextGroup++
	id := GroupID(f.nextGroup)
	g := &fakeGroup{id: id, info: api.Group{ID: id.String(), Name: name, State: state}, members: members}
	f.groups[id] = g
	return g
}

// groupLocked is g's info with our role and its member count; f.mu is
// held.
func (f *Fake) groupLocked(g *fakeGroup) api.Group {
	info := g.info
	info.MemberCount = len(g.members)
	info.Role = f.roleLocked(g).String()
	return info
}

// roleLocked is this node's role in g; f.mu is held.
func (f *Fake) roleLocked(g *fakeGroup) group.Role {
	if i := memberIndex(g, f.self); i >= 0 {
		return g.members[i].role
	}
	return group.RoleNone
}

func memberIndex(g *fakeGroup, p peer.ID) int {
	return slices.IndexFunc(g.members, func(m member) bool { return m.peer == p })
}

// findLocked returns a group the fake knows; f.mu is held.
func (f *Fake) findLocked(id group.ID) (*fakeGroup, error) {
	g, ok := f.groups[id]
	if !ok {
		return nil, fmt.Errorf("%w: group %s", api.ErrNotFound, id)
	}
	return g, nil
}

// CreateGroup implements api.GroupBackend.
func (f *Fake) CreateGroup(ctx context.Context, name string) (api.Group, error) {
	if name == "" || len(name) > 100 {
		return api.Group{}, fmt.Errorf("%w: a group name is 1 to 100 bytes", api.ErrInvalidGroup)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.groupLocked(f.addGroupLocked(name, "joined", member{f.self, group.RoleOwner})), nil
}

// Groups implements api.GroupBackend: by name, then ID.
func (f *Fake) Groups() ([]api.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	gs := slices.Collect(maps.Values(f.groups))
	slices.SortFunc(gs, func(a, b *fakeGroup) int {
		return cmp.Or(cmp.Compare(a.info.Name, b.info.Name), slices.Compare(a.id[:], b.id[:]))
	})
	out := make([]api.Group, 0, len(gs))
	for _, g := range gs {
		out = append(out, f.groupLocked(g))
	}
	return out, nil
}

// Group implements api.GroupBackend.
func (f *Fake) Group(id group.ID) (api.Group, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.findLocked(id)
	if err != nil {
		return api.Group{}, err
	}
	return f.groupLocked(g), nil
}

// GroupMembers implements api.GroupBackend: owner first, then admins,
// members, named as contacts.
func (f *Fake) GroupMembers(id group.ID) ([]api.GroupMember, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.findLocked(id)
	if err != nil {
		return nil, err
	}
	ms := slices.Clone(g.members)
	slices.SortStableFunc(ms, func(a, b member) int { return cmp.Compare(a.role, b.role) })
	out := make([]api.GroupMember, 0, len(ms))
	for _, m := range ms {
		c := f.contacts[m.peer]
		out = append(out, api.GroupMember{PeerID: m.peer.String(), Role: m.role.String(), Name: cmp.Or(c.Name, c.ProfileName)})
	}
	return out, nil
}

// setGroupState moves a group from one state to another.
func (f *Fake) setGroupState(id group.ID, from, to string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.findLocked(id)
	if err != nil {
		return err
	}
	if g.info.State != from {
		return fmt.Errorf("%w: group %s is %s", api.ErrInvalidGroup, id, g.info.State)
	}
	g.info.State = to
	return nil
}

// AcceptGroupInvite implements api.GroupBackend.
func (f *Fake) AcceptGroupInvite(ctx context.Context, id group.ID) (api.Group, error) {
	if err := f.setGroupState(id, "invited", "joined"); err != nil {
		return api.Group{}, err
	}
	return f.Group(id)
}

// DeclineGroupInvite implements api.GroupBackend.
func (f *Fake) DeclineGroupInvite(id group.ID) error {
	return f.setGroupState(id, "invited", "declined")
}

// LeaveGroup implements api.GroupBackend.
func (f *Fake) LeaveGroup(ctx context.Context, id group.ID) error {
	return f.setGroupState(id, "joined", "left")
}
