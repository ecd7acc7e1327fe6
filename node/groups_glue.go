package node

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/node/groups"
	"github.com/backchannel/backchannel/storage"
)

// This file joins package groups to the node: the types and names it
// re-exports, the operations it delegates, and the two adapters groups
// declares for 1:1 chats (groups.Chats; dm.Receipt serves as groups.Inbound).
// A group control content crosses as its kind and its groupspb encoding,
// which the 1:1 content carries as bytes in the field of that kind.

// Group types, as package groups defines them.
type (
	GroupInfo     = groups.Info
	GroupMember   = groups.Member
	GroupOutgoing = groups.Outgoing
	GroupMessage  = groups.Message
	GroupChange   = groups.Change
	GroupReaction = groups.Reaction
	GroupRSVP     = groups.RSVP
)

// Group message kinds and RSVP answers, as package groups names them.
const (
	KindEvent       = groups.KindEvent
	KindRSVP        = groups.KindRSVP
	KindRename      = groups.KindRename
	KindLeft        = groups.KindLeft
	KindProfile     = groups.KindProfile
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
		Chats:        groupChats{n.dm},
		SyncInterval: n.cfg.GroupSyncInterval,
		ReceiptDelay: n.cfg.GroupReceiptDelay,
		MaxTextBytes: n.cfg.Limits.MaxTextBytes,
		SyncRate:     n.cfg.Limits.SyncRate,
		SyncBurst:    n.cfg.Limits.SyncBurst,
		Private:      n.private,
		EpochGrace:   n.cfg.GroupEpochGrace,
		ProfileName:  n.contacts.ProfileName,
	})
}

// controlKinds pairs the group control kinds of the two packages.
var controlKinds = map[dm.GroupKind]groups.ControlKind{
	dm.GroupInvite:  groups.ControlInvite,
	dm.GroupKey:     groups.ControlKey,
	dm.GroupDecline: groups.ControlDecline,
	dm.GroupLeave:   groups.ControlLeave,
	dm.GroupRemoved: groups.ControlRemoved,
}

// groupControl is the 1:1 service's dm.GroupHandler: it hands a group
// control content to groups inside the receive transaction (a dm.Receipt
// is a groups.Inbound).
func (n *Node) groupControl(rc dm.Receipt, id storage.MessageID, sent time.Time, c dm.GroupControl) error {
	kind, ok := controlKinds[c.Kind]
	if !ok {
		return fmt.Errorf("%w: unknown group control %d", ErrProtocol, c.Kind)
	}
	return n.groups.HandleControl(rc, groups.Control{Kind: kind, Data: c.Body, ID: id, SentUnixNano: sent.UnixNano()})
}

// groupChats is groups.Chats over the 1:1 service's outbox.
type groupChats struct{ dm *dm.Service }

// Queue puts the content into to's outbox in tx, to be encrypted when to's
// session is ready.
func (c groupChats) Queue(tx *storage.Txn, to peer.ID, kind groups.ControlKind, data []byte) error {
	for k, gk := range controlKinds {
		if gk == kind {
			_, err := c.dm.QueueControls(tx, []dm.QueuedControl{{To: to, GroupControl: dm.GroupControl{Kind: k, Body: data}}})
			return err
		}
	}
	return fmt.Errorf("%w: group control content %d", ErrInvalidGroup, kind)
}

// Kick makes the outbox deliver what Queue queued.
func (c groupChats) Kick(peers []peer.ID) {
	set := make(map[peer.ID]bool, len(peers))
	for _, p := range peers {
		set[p] = true
	}
	c.dm.KickOutbox(set)
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
// then admins, then members, each as this node shows it: "you", a contact
// by our name for them, anyone else by the profile name it announced in
// the group (marked with the end of its peer ID when another uses that
// name), else by the end of its peer ID (see GroupMember).
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

// GroupChanges lists the roster changes of the epochs this node holds,
// oldest first (who was added, removed, made or unmade an admin).
func (n *Node) GroupChanges(id group.ID) ([]GroupChange, error) { return n.groups.GroupChanges(id) }

// MarkGroupRead marks everything received in the group read, and tells the
// group.
func (n *Node) MarkGroupRead(id group.ID) error { return n.groups.MarkGroupRead(id) }
