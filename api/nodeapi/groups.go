package nodeapi

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node"
)

// Private groups.

func (a adapter) CreateGroup(ctx context.Context, name string) (api.Group, error) {
	info, err := a.n.CreateGroup(ctx, name)
	return one(info, err, groupJSON)
}

func (a adapter) Groups() ([]api.Group, error) {
	gs, err := a.n.Groups()
	return all(gs, err, groupJSON)
}

func (a adapter) Group(id group.ID) (api.Group, error) {
	info, err := a.n.Group(id)
	return one(info, err, groupJSON)
}

func (a adapter) GroupMembers(id group.ID) ([]api.GroupMember, error) {
	ms, err := a.n.GroupMembers(id)
	return all(ms, err, memberJSON)
}

func (a adapter) AcceptGroupInvite(ctx context.Context, id group.ID) (api.Group, error) {
	info, err := a.n.AcceptGroupInvite(ctx, id)
	return one(info, err, groupJSON)
}

func (a adapter) InviteToGroup(ctx context.Context, id group.ID, peers ...peer.ID) error {
	return apiError(a.n.InviteToGroup(ctx, id, peers...))
}

func (a adapter) DeclineGroupInvite(id group.ID) error { return apiError(a.n.DeclineGroupInvite(id)) }

func (a adapter) LeaveGroup(ctx context.Context, id group.ID) error {
	return apiError(a.n.LeaveGroup(ctx, id))
}

func (a adapter) RenameGroup(ctx context.Context, id group.ID, name string) error {
	return apiError(a.n.RenameGroup(ctx, id, name))
}

func (a adapter) RemoveGroupMember(ctx context.Context, id group.ID, p peer.ID) error {
	return apiError(a.n.RemoveGroupMember(ctx, id, p))
}

func (a adapter) GrantGroupAdmin(ctx context.Context, id group.ID, p peer.ID, admin bool) error {
	return apiError(a.n.GrantGroupAdmin(ctx, id, p, admin))
}

func (a adapter) Rekey(ctx context.Context, id group.ID) error { return apiError(a.n.Rekey(ctx, id)) }

func (a adapter) GroupSend(ctx context.Context, id group.ID, m api.GroupOutgoing) (api.GroupMessage, error) {
	sent, err := a.n.GroupSend(ctx, id, node.GroupOutgoing{Kind: m.Kind, Body: m.Body, ReplyTo: m.ReplyTo, Start: m.Start})
	return one(sent, err, groupMessageJSON)
}

func (a adapter) GroupMessages(id group.ID, limit int, before time.Time) ([]api.GroupMessage, error) {
	ms, err := a.n.GroupMessages(id, limit, before)
	return all(ms, err, groupMessageJSON)
}

func (a adapter) GroupChanges(id group.ID) ([]api.GroupChange, error) {
	cs, err := a.n.GroupChanges(id)
	return all(cs, err, func(c node.GroupChange) api.GroupChange {
		return api.GroupChange{Epoch: c.Epoch, SignerID: c.Signer.String(), Added: peerStrings(c.Added),
			Removed: peerStrings(c.Removed), Admins: peerStrings(c.Admins), NotAdmin: peerStrings(c.NotAdmin)}
	})
}

func (a adapter) MarkGroupRead(id group.ID) error { return apiError(a.n.MarkGroupRead(id)) }

func groupJSON(g node.GroupInfo) api.Group {
	j := api.Group{ID: g.ID.String(), Name: g.Name, State: g.State.String(), Epoch: g.Epoch, Role: g.Role.String(),
		MemberCount: g.Members, Unread: g.Unread, KeyPending: g.KeyWaited}
	if g.Inviter != "" {
		j.InviterID = g.Inviter.String()
	}
	return j
}

func memberJSON(m node.GroupMember) api.GroupMember {
	return api.GroupMember{PeerID: m.Peer.String(), Role: m.Role.String(), Name: m.Name, Display: m.Display,
		Contact: m.Contact, Verified: m.Verified, Me: m.Me}
}

func peerStrings(ps []peer.ID) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.String())
	}
	return out
}

func groupMessageJSON(m node.GroupMessage) api.GroupMessage {
	j := api.GroupMessage{
		ID: hex.EncodeToString(m.ID[:]), SenderID: m.Sender.String(), Sender: memberJSON(m.From), Kind: m.Kind, Text: m.Body,
		Start: optTime(m.EventStart), Time: optTime(m.Sent), Epoch: m.Epoch, Outbound: m.Outbound,
		Reactions: []api.GroupReaction{}, RSVPs: []api.GroupRSVP{}, DeliveredTo: peerStrings(m.DeliveredTo), ReadBy: peerStrings(m.ReadBy),
	}
	if m.ReplyTo != ([32]byte{}) {
		j.ReplyTo = hex.EncodeToString(m.ReplyTo[:])
	}
	for _, r := range m.Reactions {
		j.Reactions = append(j.Reactions, api.GroupReaction{PeerID: r.Peer.String(), Emoji: r.Emoji})
	}
	for _, r := range m.RSVPs {
		j.RSVPs = append(j.RSVPs, api.GroupRSVP{PeerID: r.Peer.String(), Answer: r.Answer})
	}
	return j
}
