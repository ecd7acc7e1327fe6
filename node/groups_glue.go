package node

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups"
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// This file joins package groups to the node: the types and names it
// re-exports, the operations it delegates, and the two adapters groups
// declares for 1:1 chats (groups.Chats, groups.Inbound). A group control
// content crosses as a groups.ControlKind and the encoding of its dmpb
// message, whose field numbers groups' own wire types share.

// Group types, as package groups defines them.
type (
	GroupInfo     = groups.Info
	GroupMember   = groups.Member
	GroupOutgoing = groups.Outgoing
	GroupMessage  = groups.Message
	GroupReaction = groups.Reaction
	GroupRSVP     = groups.RSVP
)

// Group message kinds and RSVP answers, as package groups names them.
const (
	KindEvent       = groups.KindEvent
	KindRSVP        = groups.KindRSVP
	KindRename      = groups.KindRename
	KindLeft        = groups.KindLeft
	KindGroupInvite = groups.KindGroupInvite
	RSVPYes         = groups.RSVPYes
	RSVPNo          = groups.RSVPNo
	RSVPMaybe       = groups.RSVPMaybe
)

// ProtocolGroupSync is the private groups' history sync protocol.
const ProtocolGroupSync = groups.ProtocolSync

func (n *Node) newGroups() *groups.Service {
	return groups.New(groups.Config{
		Env:          n.env,
		Chats:        groupChats{n},
		SyncInterval: n.cfg.GroupSyncInterval,
		ReceiptDelay: n.cfg.GroupReceiptDelay,
		MaxTextBytes: n.cfg.Limits.MaxTextBytes,
		SyncRate:     n.cfg.Limits.SyncRate,
		SyncBurst:    n.cfg.Limits.SyncBurst,
	})
}

// groupChats is groups.Chats over the node's outbox.
type groupChats struct{ n *Node }

// Queue writes the content into the outbox, to be encrypted when to's
// session is ready.
func (c groupChats) Queue(tx *storage.Txn, to peer.ID, kind groups.ControlKind, data []byte) error {
	content, err := groupControlContent(kind, data)
	if err != nil {
		return err
	}
	id := newMessageID()
	content.Id, content.SentUnixNano = id[:], time.Now().UnixNano()
	b, err := proto.Marshal(content)
	if err != nil {
		return err
	}
	now := c.n.clock.Now()
	return tx.PutOutbox(storage.OutboxEntry{ID: id, Peer: to, Content: b, Created: now, NextTry: now})
}

// Kick makes the outbox deliver what Queue queued: entries written outside
// the peers' locks may be older than the floor a busy deliverer is about
// to set, so the floor is reset.
func (c groupChats) Kick(peers []peer.ID) {
	for _, p := range peers {
		ps := c.n.peers.get(p)
		ps.mu.Lock()
		ps.outboxFloor, ps.floorReset = time.Time{}, true
		ps.mu.Unlock()
		c.n.out.notify(p)
	}
}

// groupInbound is groups.Inbound over a 1:1 receipt.
type groupInbound struct{ rc *receipt }

func (i groupInbound) Txn() *storage.Txn                    { return i.rc.tx }
func (i groupInbound) Peer() peer.ID                        { return i.rc.p }
func (i groupInbound) Stranger() bool                       { return i.rc.stranger() }
func (i groupInbound) StoreMessage(m storage.Message) error { return i.rc.store(m) }
func (i groupInbound) Emit(e event.Event)                   { i.rc.events = append(i.rc.events, e) }
func (i groupInbound) After(f func())                       { i.rc.after = append(i.rc.after, f) }

// groupControl hands a group control content to groups.
func (rc *receipt) groupControl(id storage.MessageID, c *dmpb.Content) error {
	var (
		kind groups.ControlKind
		m    proto.Message
	)
	switch b := c.Body.(type) {
	case *dmpb.Content_GroupInvite:
		kind, m = groups.ControlInvite, b.GroupInvite
	case *dmpb.Content_GroupKey:
		kind, m = groups.ControlKey, b.GroupKey
	case *dmpb.Content_GroupDecline:
		kind, m = groups.ControlDecline, b.GroupDecline
	case *dmpb.Content_GroupLeave:
		kind, m = groups.ControlLeave, b.GroupLeave
	case *dmpb.Content_GroupRemoved:
		kind, m = groups.ControlRemoved, b.GroupRemoved
	default:
		return fmt.Errorf("%w: not a group control content", ErrProtocol)
	}
	data, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	return rc.n.groups.HandleControl(groupInbound{rc}, groups.Control{Kind: kind, Data: data, ID: id, SentUnixNano: c.SentUnixNano})
}

// groupControlContent is the 1:1 content carrying a group control content.
func groupControlContent(kind groups.ControlKind, data []byte) (*dmpb.Content, error) {
	var (
		c dmpb.Content
		m proto.Message
	)
	switch kind {
	case groups.ControlInvite:
		b := &dmpb.GroupInvite{}
		c.Body, m = &dmpb.Content_GroupInvite{GroupInvite: b}, b
	case groups.ControlKey:
		b := &dmpb.GroupKey{}
		c.Body, m = &dmpb.Content_GroupKey{GroupKey: b}, b
	case groups.ControlDecline:
		b := &dmpb.GroupDecline{}
		c.Body, m = &dmpb.Content_GroupDecline{GroupDecline: b}, b
	case groups.ControlLeave:
		b := &dmpb.GroupLeave{}
		c.Body, m = &dmpb.Content_GroupLeave{GroupLeave: b}, b
	case groups.ControlRemoved:
		b := &dmpb.GroupRemoved{}
		c.Body, m = &dmpb.Content_GroupRemoved{GroupRemoved: b}, b
	default:
		return nil, fmt.Errorf("%w: group control content %d", ErrInvalidGroup, kind)
	}
	if err := proto.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidGroup, err)
	}
	return &c, nil
}

// The group operations, delegated to package groups.

// CreateGroup makes a private group owned by this node, alone in it at
// epoch 0, and joins its topic. Invite members with InviteToGroup.
func (n *Node) CreateGroup(ctx context.Context, name string) (GroupInfo, error) {
	return n.groups.CreateGroup(ctx, name)
}

// ResolveGroup turns a group ID (hex) or the exact name of a known group
// into its ID.
func (n *Node) ResolveGroup(ref string) (group.ID, error) { return n.groups.ResolveGroup(ref) }

// Groups lists the groups this node knows: joined, invited to, left.
func (n *Node) Groups() ([]GroupInfo, error) { return n.groups.Groups() }

// Group describes one group.
func (n *Node) Group(id group.ID) (GroupInfo, error) { return n.groups.Group(id) }

// GroupMembers lists the members of a group's newest roster, owner first,
// then admins, then members.
func (n *Node) GroupMembers(id group.ID) ([]GroupMember, error) { return n.groups.GroupMembers(id) }

// InviteToGroup adds peers to the group in a new epoch and sends each an
// invitation over their 1:1 session; every member of the new epoch gets its
// key. Only the owner or an admin can.
func (n *Node) InviteToGroup(ctx context.Context, id group.ID, peers ...peer.ID) error {
	return n.groups.InviteToGroup(ctx, id, peers...)
}

// AddGroupMember is InviteToGroup for one peer.
func (n *Node) AddGroupMember(ctx context.Context, id group.ID, p peer.ID) error {
	return n.groups.AddGroupMember(ctx, id, p)
}

// RemoveGroupMember starts a new epoch without p (owner or admin; only the
// owner removes an admin).
func (n *Node) RemoveGroupMember(ctx context.Context, id group.ID, p peer.ID) error {
	return n.groups.RemoveGroupMember(ctx, id, p)
}

// GrantGroupAdmin makes a member an admin (admin true) or a plain member
// again, in a new epoch. Only the owner can.
func (n *Node) GrantGroupAdmin(ctx context.Context, id group.ID, p peer.ID, admin bool) error {
	return n.groups.GrantGroupAdmin(ctx, id, p, admin)
}

// Rekey starts a new epoch with the same members and a fresh key (owner or
// admin).
func (n *Node) Rekey(ctx context.Context, id group.ID) error { return n.groups.Rekey(ctx, id) }

// AcceptGroupInvite joins a group this node was invited to.
func (n *Node) AcceptGroupInvite(ctx context.Context, id group.ID) (GroupInfo, error) {
	return n.groups.AcceptGroupInvite(ctx, id)
}

// DeclineGroupInvite declines an invitation: the inviter is told (and
// removes us from the roster); the group's secrets are deleted.
func (n *Node) DeclineGroupInvite(id group.ID) error { return n.groups.DeclineGroupInvite(id) }

// LeaveGroup leaves a group; the history stays, the group's secrets go.
func (n *Node) LeaveGroup(ctx context.Context, id group.ID) error {
	return n.groups.LeaveGroup(ctx, id)
}

// RenameGroup renames the group for every member (owner or admin).
func (n *Node) RenameGroup(ctx context.Context, id group.ID, name string) error {
	return n.groups.RenameGroup(ctx, id, name)
}

// GroupSend seals a message with this node's chain of the group's newest
// epoch, stores it and publishes it on the group's topic.
func (n *Node) GroupSend(ctx context.Context, id group.ID, out GroupOutgoing) (GroupMessage, error) {
	return n.groups.GroupSend(ctx, id, out)
}

// GroupMessages returns up to limit lines of the group's thread, newest
// first, sent before before (zero: from the newest), with their reactions,
// RSVPs and receipts.
func (n *Node) GroupMessages(id group.ID, limit int, before time.Time) ([]GroupMessage, error) {
	return n.groups.GroupMessages(id, limit, before)
}

// MarkGroupRead marks everything received in the group read, and tells the
// group.
func (n *Node) MarkGroupRead(id group.ID) error { return n.groups.MarkGroupRead(id) }
