package apitest

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

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
	lines   []api.GroupMessage // oldest first; Sender is filled in when read
	changes []api.GroupChange  // oldest first
	names   map[peer.ID]string // the names members announced
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
	g := &fakeGroup{id: id, info: api.Group{ID: id.String(), Name: name, State: state}, members: members, names: map[peer.ID]string{}}
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
// members, each as the node would show it.
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
		out = append(out, f.memberLocked(g, m.peer))
	}
	return out, nil
}

// AnnounceGroupName makes member p of a group announce its profile name,
// as if from the network, and emits the "group_member" event.
func (f *Fake) AnnounceGroupName(id group.ID, p peer.ID, name string) error {
	f.mu.Lock()
	g, err := f.findLocked(id)
	if err != nil {
		f.mu.Unlock()
		return err
	}
	if memberIndex(g, p) < 0 {
		f.mu.Unlock()
		return fmt.Errorf("%w: %s is not a member", api.ErrNotFound, p)
	}
	g.names[p] = name
	epoch, now := g.info.Epoch, f.Now
	f.mu.Unlock()
	f.Emit(api.Event{Type: "group_member", PeerID: p.String(), Group: &api.GroupEvent{GroupID: id.String(), Epoch: epoch, Kind: "profile", MemberID: p.String()}, Time: at(now)})
	return nil
}

// memberLocked is how the fake shows p in g, by the node's rule: "you",
// a contact by our name for it, a member by the name it announced (marked
// with the end of its peer ID when another member, a contact or we use
// it), else the end of its peer ID; f.mu is held.
func (f *Fake) memberLocked(g *fakeGroup, p peer.ID) api.GroupMember {
	s := p.String()
	m := api.GroupMember{PeerID: s, Role: group.RoleNone.String(), Display: "…" + s[max(0, len(s)-8):]}
	if i := memberIndex(g, p); i >= 0 {
		m.Role = g.members[i].role.String()
		m.Name = g.names[p]
	}
	c, contact := f.contacts[p]
	switch {
	case p == f.self:
		m.Me, m.Name, m.Display = true, f.SelfInfo.Name, "you"
	case contact && c.State == stateAccepted:
		m.Contact, m.Verified = true, c.Verified
		m.Display = cmp.Or(c.Name, c.ProfileName, m.Name, m.Display)
	case m.Name != "":
		taken := strings.EqualFold(m.Name, f.SelfInfo.Name)
		for q, n := range g.names {
			taken = taken || q != p && memberIndex(g, q) >= 0 && strings.EqualFold(n, m.Name)
		}
		for q, c := range f.contacts {
			taken = taken || q != p && c.State == stateAccepted && strings.EqualFold(cmp.Or(c.Name, c.ProfileName), m.Name)
		}
		if taken {
			m.Display = m.Name + " (" + m.Display + ")"
		} else {
			m.Display = m.Name
		}
	}
	return m
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
