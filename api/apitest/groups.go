package apitest

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// fakeGroup is a group as the fake keeps it: no keys, no network. The
// roster is a list of members; every roster change moves the epoch on.
type fakeGroup struct {
	info    node.GroupInfo
	members []node.GroupMember
	lines   []node.GroupMessage // oldest first
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
func (f *Fake) AddGroupInvite(name string, inviter peer.ID) node.GroupInfo {
	f.mu.Lock()
	f.nextGroup++
	g := &fakeGroup{
		info:    node.GroupInfo{ID: GroupID(f.nextGroup), Name: name, State: storage.GroupInvited, Epoch: 1, Role: group.RoleMember, Inviter: inviter},
		members: []node.GroupMember{{Peer: inviter, Role: group.RoleOwner}, {Peer: f.SelfInfo.PeerID, Role: group.RoleMember}},
	}
	f.groups[g.info.ID] = g
	info := f.groupInfoLocked(g)
	f.mu.Unlock()
	f.Emit(node.Event{Type: node.EventGroupInvite, Peer: inviter, Group: &node.GroupEvent{Group: info.ID, Epoch: 1, State: "invited"}, Time: f.Now})
	return info
}

// GroupSpeak posts a line as p in a group, as if it came from the network,
// and emits a "group_message" event.
func (f *Fake) GroupSpeak(id group.ID, p peer.ID, text string) (node.GroupMessage, error) {
	f.mu.Lock()
	g, ok := f.groups[id]
	if !ok {
		f.mu.Unlock()
		return node.GroupMessage{}, fmt.Errorf("%w: group %s", node.ErrNotFound, id)
	}
	m := f.newGroupLine(g, p, node.KindText, text)
	m.Received = m.Sent
	g.lines = append(g.lines, m)
	g.info.Unread++
	f.mu.Unlock()
	f.Emit(node.Event{Type: node.EventGroupMessage, Peer: p, Group: &node.GroupEvent{Group: id, Epoch: m.Epoch, Message: m.ID, Kind: m.Kind}, Time: m.Sent})
	return m, nil
}

// newGroupLine makes a line with the next ID and time; f.mu is held.
func (f *Fake) newGroupLine(g *fakeGroup, p peer.ID, kind, text string) node.GroupMessage {
	f.nextGroupMsg++
	f.Now = f.Now.Add(time.Second)
	m := node.GroupMessage{}
	m.Group, m.ID, m.Epoch, m.Sender, m.Kind, m.Body, m.Sent = storage.GroupID(g.info.ID), GroupMessageID(f.nextGroupMsg), g.info.Epoch, p, kind, text, f.Now
	m.Outbound = p == f.SelfInfo.PeerID
	return m
}

func (f *Fake) groupInfoLocked(g *fakeGroup) node.GroupInfo {
	info := g.info
	info.Members = len(g.members)
	info.Role = group.RoleNone
	for _, m := range g.members {
		if m.Peer == f.SelfInfo.PeerID {
			info.Role = m.Role
		}
	}
	return info
}

// CreateGroup implements api.Backend.
func (f *Fake) CreateGroup(ctx context.Context, name string) (node.GroupInfo, error) {
	if name == "" || len(name) > 100 {
		return node.GroupInfo{}, fmt.Errorf("%w: a group name is 1 to 100 bytes", node.ErrInvalidGroup)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.nextGroup++
	g := &fakeGroup{
		info:    node.GroupInfo{ID: GroupID(f.nextGroup), Name: name, State: storage.GroupJoined},
		members: []node.GroupMember{{Peer: f.SelfInfo.PeerID, Role: group.RoleOwner}},
	}
	f.groups[g.info.ID] = g
	return f.groupInfoLocked(g), nil
}

// Groups implements api.Backend: by name, then ID.
func (f *Fake) Groups() ([]node.GroupInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []node.GroupInfo
	for _, g := range f.groups {
		out = append(out, f.groupInfoLocked(g))
	}
	slices.SortFunc(out, func(a, b node.GroupInfo) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), slices.Compare(a.ID[:], b.ID[:]))
	})
	return out, nil
}

func (f *Fake) groupLocked(id group.ID) (*fakeGroup, error) {
	g, ok := f.groups[id]
	if !ok {
		return nil, fmt.Errorf("%w: group %s", node.ErrNotFound, id)
	}
	return g, nil
}

// Group implements api.Backend.
func (f *Fake) Group(id group.ID) (node.GroupInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupLocked(id)
	if err != nil {
		return node.GroupInfo{}, err
	}
	return f.groupInfoLocked(g), nil
}

// GroupMembers implements api.Backend: owner first, then admins, members,
// named as contacts.
func (f *Fake) GroupMembers(id group.ID) ([]node.GroupMember, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupLocked(id)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(g.members)
	for i := range out {
		if c, ok := f.contacts[out[i].Peer]; ok {
			out[i].Name = cmp.Or(c.Name, c.ProfileName)
		}
	}
	slices.SortStableFunc(out, func(a, b node.GroupMember) int { return cmp.Compare(a.Role, b.Role) })
	return out, nil
}

// changeLocked checks that this node may change the roster of a joined
// group (needOwner: only the owner) and moves its epoch on.
func (f *Fake) changeLocked(id group.ID, needOwner bool, edit func(g *fakeGroup) error) error {
	g, err := f.groupLocked(id)
	if err != nil {
		return err
	}
	if g.info.State != storage.GroupJoined {
		return fmt.Errorf("%w: not in group %s (%s)", node.ErrInvalidGroup, id, g.info.State)
	}
	role := f.groupInfoLocked(g).Role
	if role != group.RoleOwner && (needOwner || role != group.RoleAdmin) {
		return fmt.Errorf("%w: only the group's owner or an admin can do that", node.ErrNotAllowed)
	}
	if err := edit(g); err != nil {
		return err
	}
	g.info.Epoch++
	return nil
}

func memberIndex(g *fakeGroup, p peer.ID) int {
	return slices.IndexFunc(g.members, func(m node.GroupMember) bool { return m.Peer == p })
}

// InviteToGroup implements api.Backend.
func (f *Fake) InviteToGroup(ctx context.Context, id group.ID, peers ...peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changeLocked(id, false, func(g *fakeGroup) error {
		for _, p := range peers {
			if memberIndex(g, p) >= 0 {
				return fmt.Errorf("%w: %s is already a member", node.ErrInvalidGroup, p)
			}
		}
		for _, p := range peers {
			g.members = append(g.members, node.GroupMember{Peer: p, Role: group.RoleMember})
		}
		return nil
	})
}

// RemoveGroupMember implements api.Backend.
func (f *Fake) RemoveGroupMember(ctx context.Context, id group.ID, p peer.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changeLocked(id, false, func(g *fakeGroup) error {
		i := memberIndex(g, p)
		if i < 0 {
			return fmt.Errorf("%w: %s is not a member", node.ErrNotFound, p)
		}
		if g.members[i].Role == group.RoleOwner {
			return fmt.Errorf("%w: the owner cannot be removed", node.ErrNotAllowed)
		}
		g.members = slices.Delete(g.members, i, i+1)
		return nil
	})
}

// GrantGroupAdmin implements api.Backend: only the owner may.
func (f *Fake) GrantGroupAdmin(ctx context.Context, id group.ID, p peer.ID, admin bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changeLocked(id, true, func(g *fakeGroup) error {
		i := memberIndex(g, p)
		if i < 0 {
			return fmt.Errorf("%w: %s is not a member", node.ErrNotFound, p)
		}
		g.members[i].Role = group.RoleMember
		if admin {
			g.members[i].Role = group.RoleAdmin
		}
		return nil
	})
}

// Rekey implements api.Backend.
func (f *Fake) Rekey(ctx context.Context, id group.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.changeLocked(id, false, func(*fakeGroup) error { return nil })
}

// setGroupState moves a group from one state to another.
func (f *Fake) setGroupState(id group.ID, from, to storage.GroupState) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupLocked(id)
	if err != nil {
		return err
	}
	if g.info.State != from {
		return fmt.Errorf("%w: group %s is %s", node.ErrInvalidGroup, id, g.info.State)
	}
	g.info.State = to
	return nil
}

// AcceptGroupInvite implements api.Backend.
func (f *Fake) AcceptGroupInvite(ctx context.Context, id group.ID) (node.GroupInfo, error) {
	if err := f.setGroupState(id, storage.GroupInvited, storage.GroupJoined); err != nil {
		return node.GroupInfo{}, err
	}
	return f.Group(id)
}

// DeclineGroupInvite implements api.Backend.
func (f *Fake) DeclineGroupInvite(id group.ID) error {
	return f.setGroupState(id, storage.GroupInvited, storage.GroupDeclined)
}

// LeaveGroup implements api.Backend.
func (f *Fake) LeaveGroup(ctx context.Context, id group.ID) error {
	return f.setGroupState(id, storage.GroupJoined, storage.GroupLeft)
}

// RenameGroup implements api.Backend: owner or admin.
func (f *Fake) RenameGroup(ctx context.Context, id group.ID, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupLocked(id)
	if err != nil {
		return err
	}
	if r := f.groupInfoLocked(g).Role; r != group.RoleOwner && r != group.RoleAdmin {
		return fmt.Errorf("%w: only the group's owner or an admin can rename it", node.ErrNotAllowed)
	}
	g.info.Name = name
	g.lines = append(g.lines, f.newGroupLine(g, f.SelfInfo.PeerID, node.KindRename, name))
	return nil
}

// GroupSend implements api.Backend. Reactions and RSVPs go on their target.
func (f *Fake) GroupSend(ctx context.Context, id group.ID, out node.GroupOutgoing) (node.GroupMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupLocked(id)
	if err != nil {
		return node.GroupMessage{}, err
	}
	if g.info.State != storage.GroupJoined {
		return node.GroupMessage{}, fmt.Errorf("%w: not in group %s", node.ErrInvalidGroup, id)
	}
	if len(out.Body) > MaxText {
		return node.GroupMessage{}, fmt.Errorf("%w: message of %d bytes", node.ErrTooLarge, len(out.Body))
	}
	kind := cmp.Or(out.Kind, node.KindText)
	if kind == node.KindText && out.ReplyTo != ([32]byte{}) {
		kind = node.KindReply
	}
	target := slices.IndexFunc(g.lines, func(m node.GroupMessage) bool { return m.ID == out.ReplyTo })
	self := f.SelfInfo.PeerID
	switch kind {
	case node.KindText, node.KindReply:
	case node.KindEvent:
		if out.Start.IsZero() {
			return node.GroupMessage{}, fmt.Errorf("%w: an event needs a start time", node.ErrInvalidGroup)
		}
	case node.KindReaction, node.KindRSVP:
		if target < 0 {
			return node.GroupMessage{}, fmt.Errorf("%w: no message %x", node.ErrNotFound, out.ReplyTo[:4])
		}
		t := &g.lines[target]
		if kind == node.KindReaction {
			t.Reactions = append(t.Reactions, node.GroupReaction{Peer: self, Emoji: out.Body})
		} else {
			if t.Kind != node.KindEvent || (out.Body != node.RSVPYes && out.Body != node.RSVPNo && out.Body != node.RSVPMaybe) {
				return node.GroupMessage{}, fmt.Errorf("%w: an RSVP answers an event with yes, no or maybe", node.ErrInvalidGroup)
			}
			t.RSVPs = slices.DeleteFunc(t.RSVPs, func(r node.GroupRSVP) bool { return r.Peer == self })
			t.RSVPs = append(t.RSVPs, node.GroupRSVP{Peer: self, Answer: out.Body})
		}
		m := f.newGroupLine(g, self, kind, out.Body)
		m.ReplyTo = out.ReplyTo
		return m, nil
	default:
		return node.GroupMessage{}, fmt.Errorf("%w: unknown message kind %q", node.ErrInvalidGroup, kind)
	}
	m := f.newGroupLine(g, self, kind, out.Body)
	m.ReplyTo, m.EventStart = out.ReplyTo, out.Start.UTC()
	if out.Start.IsZero() {
		m.EventStart = time.Time{}
	}
	g.lines = append(g.lines, m)
	return m, nil
}

// GroupMessages implements api.Backend: newest first.
func (f *Fake) GroupMessages(id group.ID, limit int, before time.Time) ([]node.GroupMessage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupLocked(id)
	if err != nil {
		return nil, err
	}
	var out []node.GroupMessage
	for i := len(g.lines) - 1; i >= 0 && len(out) < limit; i-- {
		if before.IsZero() || g.lines[i].Sent.Before(before) {
			out = append(out, g.lines[i])
		}
	}
	return out, nil
}

// MarkGroupRead implements api.Backend.
func (f *Fake) MarkGroupRead(id group.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, err := f.groupLocked(id)
	if err != nil {
		return err
	}
	g.info.Unread = 0
	for i := range g.lines {
		if !g.lines[i].Outbound && !slices.Contains(g.lines[i].ReadBy, f.SelfInfo.PeerID) {
			g.lines[i].ReadBy = append(g.lines[i].ReadBy, f.SelfInfo.PeerID)
		}
	}
	return nil
}
