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
	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// KindGroupInvite is the kind of the message an invitation leaves in the
// inviter's 1:1 thread (in the inbox, or in requests if the inviter is a
// stranger); its body is the group's name.
const KindGroupInvite = "group_invite"

// A group control content that does not check out is acked and dropped with
// a log line, not treated as a broken protocol: the sender's outbox would
// otherwise send it again forever.
func (n *Node) dropGroup(rc dm.Receipt, what string, err error) error {
	n.log.Warn("group: "+what+" dropped", "from", rc.Peer(), "err", err)
	return nil
}

// checkInvite decodes an invitation and checks that its roster is the
// inviter's, for this group, and lists us.
func (n *Node) checkInvite(rc dm.Receipt, inv *dmpb.GroupInvite) (group.ID, group.Secret, *group.Roster, error) {
	gid, err := group.IDFromBytes(inv.Group)
	if err != nil {
		return gid, group.Secret{}, nil, err
	}
	secret, err := group.UnmarshalSecret(inv.Secret)
	if err != nil {
		return gid, secret, nil, err
	}
	if err := checkGroupName(inv.Name); err != nil {
		return gid, secret, nil, err
	}
	r, err := group.UnmarshalRoster(inv.Roster)
	if err == nil {
		err = r.VerifySignature()
	}
	if err == nil && (r.Group != gid || r.Signer != rc.Key() || !r.IsMember(n.self())) {
		err = fmt.Errorf("%w: the roster is not the inviter's for this group, or does not list us", ErrProtocol)
	}
	return gid, secret, r, err
}

// groupInvite stores an invitation: the group's secret, name and the
// roster of the epoch that added us, signed by the inviter, whom we trust
// for it. It shows as a message in the inviter's thread.
func (n *Node) groupInvite(rc dm.Receipt, id storage.MessageID, sent time.Time, inv *dmpb.GroupInvite) error {
	gid, secret, r, err := n.checkInvite(rc, inv)
	if err != nil {
		return n.dropGroup(rc, "invite", err)
	}
	l := n.groups.lock(gid)
	l.Lock()
	defer l.Unlock()
	now := time.Now().UTC()
	g, err := rc.Txn().Group(sid(gid))
	switch {
	case err == nil && g.State == storage.GroupJoined:
		// Already in: take the roster if it follows ours, or start again
		// from it if it is newer and does not (we were re-added after a fork
		// we did not see).
		chain, err := loadChain(rc.Txn(), g)
		if err != nil {
			return err
		}
		if res, _, err := adoptRoster(rc.Txn(), gid, chain, r); err == nil && res != adoptGap && res != adoptLost {
			rc.After(func() { n.refreshGroup(gid) })
			return nil
		}
		if r.Epoch <= chain.latest().Epoch {
			return nil
		}
		if err := rc.Txn().DeleteGroupRostersFrom(g.ID, 0); err != nil {
			return err
		}
		g.BaseEpoch, g.Updated = r.Epoch, now
		if err := rc.Txn().PutGroup(g); err != nil {
			return err
		}
		rc.After(func() { n.refreshGroup(gid) })
		return rc.Txn().PutGroupRoster(g.ID, r.Epoch, inv.Roster)
	case err == nil:
		// An invitation again (after leaving, declining, or a newer one):
		// start from its roster.
		if err := rc.Txn().DeleteGroupRostersFrom(g.ID, 0); err != nil {
			return err
		}
		if err := rc.Txn().DeleteGroupSecrets(g.ID); err != nil {
			return err
		}
	case errors.Is(err, storage.ErrNotFound):
		g = storage.Group{ID: sid(gid), Created: now}
	default:
		return err
	}
	sb, _ := secret.MarshalBinary()
	g.Secret, g.Name, g.NameSent, g.NameID = sb, inv.Name, time.Time{}, [32]byte{}
	g.State, g.Inviter, g.InviteMessage, g.BaseEpoch, g.Updated = storage.GroupInvited, rc.Peer(), id, r.Epoch, now
	if err := rc.Txn().PutGroup(g); err != nil {
		return err
	}
	if err := rc.Txn().PutGroupRoster(g.ID, r.Epoch, inv.Roster); err != nil {
		return err
	}
	if err := rc.Store(storage.Message{ID: id, Peer: rc.Peer(), Direction: storage.Inbound, Kind: KindGroupInvite, Body: inv.Name,
		Sent: sent, Received: now, State: storage.StateReceived}); err != nil {
		return err
	}
	rc.Emit(Event{Type: EventGroupInvite, Peer: rc.Peer(), Group: &GroupEvent{Group: gid, Epoch: r.Epoch, State: storage.GroupInvited.String()}})
	return nil
}

// groupKey accepts an epoch's key from the signer of that epoch's roster,
// which comes with it. A roster that does not link to ours yet (we missed
// one) is parked with its key until history sync brings the rosters between.
func (n *Node) groupKey(rc dm.Receipt, m *dmpb.GroupKey) error {
	gk, err := group.UnmarshalGroupKey(m.Key)
	if err != nil {
		return n.dropGroup(rc, "key", err)
	}
	r, err := group.UnmarshalRoster(m.Roster)
	if err != nil {
		return n.dropGroup(rc, "key", err)
	}
	if r.Group != gk.Group || r.Epoch != gk.Epoch || r.Signer != rc.Key() {
		return n.dropGroup(rc, "key", fmt.Errorf("%w: key for epoch %d not from the signer of its roster", ErrProtocol, gk.Epoch))
	}
	gid := gk.Group
	l := n.groups.lock(gid)
	l.Lock()
	defer l.Unlock()
	g, err := rc.Txn().Group(sid(gid))
	if errors.Is(err, storage.ErrNotFound) {
		return n.dropGroup(rc, "key", fmt.Errorf("unknown group %s", gid))
	}
	if err != nil {
		return err
	}
	if g.State != storage.GroupJoined && g.State != storage.GroupInvited {
		return nil // we left: keys are of no use
	}
	chain, err := loadChain(rc.Txn(), g)
	if err != nil {
		return err
	}
	res, lost, err := adoptRoster(rc.Txn(), gid, chain, r)
	if err != nil && r.VerifySignature() != nil {
		return n.dropGroup(rc, "key", err)
	}
	switch {
	case err != nil || res == adoptGap:
		// Rosters are missing between ours and this one, or it follows a
		// roster of a fork we have not switched to (yet): it waits.
		if err := parkKey(rc.Txn(), g, storage.ParkedGroupKey{Epoch: r.Epoch, From: rc.Peer(), Key: m.Key, Roster: m.Roster}); err != nil {
			return err
		}
		rc.After(func() { n.syncGroupSoon(gid) })
		return nil
	case res == adoptLost || res == adoptStale:
		return nil
	}
	epochs := []uint64{}
	if ok, err := putKey(rc.Txn(), g, chain, gk, m.Key, rc.Key().PeerID(), n.self()); err != nil {
		return err
	} else if ok {
		epochs = append(epochs, gk.Epoch)
	}
	more, err := unparkKeys(rc.Txn(), g, chain, n.self())
	if err != nil {
		return err
	}
	epochs = append(epochs, more...)
	if res == adoptSwitched && lost.Signer == n.self() {
		prev := chain.at(r.Epoch - 1)
		rc.After(func() { n.reapply(gid, prev, lost) })
	}
	rc.After(func() { n.keysArrived(gid, epochs) })
	return nil
}

// putKey stores an epoch key if the chain's roster of that epoch lists us
// and was signed by from, and we have none for it yet.
func putKey(tx *storage.Txn, g storage.Group, chain *rosterChain, gk group.GroupKey, kb []byte, from peer.ID, self keys.PublicKey) (bool, error) {
	r := chain.at(gk.Epoch)
	if r == nil || r.Signer.PeerID() != from || !r.IsMember(self) {
		return false, nil
	}
	if _, err := tx.GroupEpochKey(g.ID, gk.Epoch); err == nil {
		return false, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	return true, tx.PutGroupEpochKey(g.ID, gk.Epoch, kb)
}

// maxParkedKeys bounds the keys a group keeps waiting for their rosters.
const maxParkedKeys = 32

// parkKey keeps a key whose roster does not follow the chain yet, unless
// too many wait already.
func parkKey(tx *storage.Txn, g storage.Group, k storage.ParkedGroupKey) error {
	parked, err := tx.ParkedGroupKeys(g.ID)
	if err != nil {
		return err
	}
	if len(parked) >= maxParkedKeys {
		return nil // sync and later keys will do
	}
	return tx.PutParkedGroupKey(g.ID, k)
}

// unparkKeys takes the parked keys whose rosters now follow the chain, in
// epoch order, and returns the epochs whose keys it stored. A key whose
// roster still does not follow (a fork not resolved here yet) keeps
// waiting; one that lost, or is older than the base, goes.
func unparkKeys(tx *storage.Txn, g storage.Group, chain *rosterChain, self keys.PublicKey) ([]uint64, error) {
	parked, err := tx.ParkedGroupKeys(g.ID)
	if err != nil {
		return nil, err
	}
	var epochs []uint64
	for _, pk := range parked {
		if pk.Epoch > chain.latest().Epoch+1 {
			break // still a gap
		}
		gk, err1 := group.UnmarshalGroupKey(pk.Key)
		r, err2 := group.UnmarshalRoster(pk.Roster)
		if err1 != nil || err2 != nil || r.Group != group.ID(g.ID) || gk.Epoch != r.Epoch || r.Signer.PeerID() != pk.From {
			if err := tx.DeleteParkedGroupKey(g.ID, pk.Epoch, pk.From); err != nil {
				return nil, err
			}
			continue
		}
		res, _, err := adoptRoster(tx, group.ID(g.ID), chain, r)
		if err != nil {
			continue // does not follow our roster of the epoch before: waits
		}
		if err := tx.DeleteParkedGroupKey(g.ID, pk.Epoch, pk.From); err != nil {
			return nil, err
		}
		if res == adoptLost || res == adoptStale || res == adoptGap {
			continue
		}
		ok, err := putKey(tx, g, chain, gk, pk.Key, pk.From, self)
		if err != nil {
			return nil, err
		}
		if ok {
			epochs = append(epochs, gk.Epoch)
		}
	}
	return epochs, nil
}

// groupDecline: the peer we invited declined; we remove it again.
func (n *Node) groupDecline(rc dm.Receipt, m *dmpb.GroupDecline) error {
	gid, err := group.IDFromBytes(m.Group)
	if err != nil {
		return n.dropGroup(rc, "decline", err)
	}
	p := rc.Peer()
	rc.After(func() { n.removeOnRequest(gid, p, "declined") })
	return nil
}

// groupLeave: a member left; as owner or admin we start an epoch without it.
func (n *Node) groupLeave(rc dm.Receipt, m *dmpb.GroupLeave) error {
	gid, err := group.IDFromBytes(m.Group)
	if err != nil {
		return n.dropGroup(rc, "leave", err)
	}
	p := rc.Peer()
	rc.After(func() { n.removeOnRequest(gid, p, "left") })
	return nil
}

// removeOnRequest removes p, who declined or left, if this node may and p
// is still a member.
func (n *Node) removeOnRequest(id group.ID, p peer.ID, why string) {
	err := n.RemoveGroupMember(n.ctx, id, p)
	switch {
	case err == nil:
		n.log.Info("group: member removed", "group", id, "member", p, "because", why)
	case errors.Is(err, ErrNotAllowed) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrInvalidGroup) || errors.Is(err, ErrClosed):
	default:
		n.log.Warn("group: member not removed", "group", id, "member", p, "err", err)
	}
}

// groupRemoved: the signer of a roster that no longer lists us says so. We
// check the roster follows ours, then stop: our secrets go, the history
// stays.
func (n *Node) groupRemoved(rc dm.Receipt, m *dmpb.GroupRemoved) error {
	gid, err := group.IDFromBytes(m.Group)
	if err != nil {
		return n.dropGroup(rc, "removal", err)
	}
	r, err := group.UnmarshalRoster(m.Roster)
	if err != nil {
		return n.dropGroup(rc, "removal", err)
	}
	if r.Group != gid || r.Signer != rc.Key() || r.IsMember(n.self()) {
		return n.dropGroup(rc, "removal", fmt.Errorf("%w: not a roster of this group by the sender without us", ErrProtocol))
	}
	l := n.groups.lock(gid)
	l.Lock()
	defer l.Unlock()
	g, err := rc.Txn().Group(sid(gid))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if g.State != storage.GroupJoined && g.State != storage.GroupInvited {
		return nil
	}
	chain, err := loadChain(rc.Txn(), g)
	if err != nil {
		return err
	}
	res, _, err := adoptRoster(rc.Txn(), gid, chain, r)
	if err != nil || res == adoptGap || res == adoptLost || res == adoptStale {
		if res == adoptGap {
			rc.After(func() { n.syncGroupSoon(gid) })
		}
		return n.dropGroup(rc, "removal", err)
	}
	if err := rc.Txn().DeleteGroupSecrets(g.ID); err != nil {
		return err
	}
	g.State, g.Updated = storage.GroupRemoved, time.Now().UTC()
	if err := rc.Txn().PutGroup(g); err != nil {
		return err
	}
	rc.Emit(Event{Type: EventGroupMember, Peer: rc.Peer(), Group: &GroupEvent{Group: gid, Epoch: r.Epoch, State: g.State.String()}})
	rc.After(func() { n.stopGroupLive(gid) })
	return nil
}

// AcceptGroupInvite joins a group this node was invited to: it subscribes
// to the group's topic and fetches the history from the epoch that added it.
func (n *Node) AcceptGroupInvite(_ context.Context, id group.ID) (GroupInfo, error) {
	if !n.started.Load() {
		return GroupInfo{}, fmt.Errorf("%w: not started", ErrClosed)
	}
	err := n.store.Update(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupInvited {
			return fmt.Errorf("%w: no pending invitation to group %s (%s)", ErrInvalidGroup, id, g.State)
		}
		g.State, g.Updated = storage.GroupJoined, time.Now().UTC()
		return tx.PutGroup(g)
	})
	if err != nil {
		return GroupInfo{}, err
	}
	if err := n.joinGroupLive(id); err != nil {
		return GroupInfo{}, err
	}
	n.bus.Publish(Event{Type: EventGroupMember, Group: &GroupEvent{Group: id, State: storage.GroupJoined.String()}})
	return n.Group(id)
}

// DeclineGroupInvite declines an invitation: the inviter is told (and
// removes us from the roster); the group's secrets are deleted.
func (n *Node) DeclineGroupInvite(id group.ID) error {
	var notify map[peer.ID]bool
	err := n.store.Update(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupInvited {
			return fmt.Errorf("%w: no pending invitation to group %s (%s)", ErrInvalidGroup, id, g.State)
		}
		g.State, g.Secret, g.Updated = storage.GroupDeclined, nil, time.Now().UTC()
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		if err := tx.DeleteGroupSecrets(g.ID); err != nil {
			return err
		}
		notify, err = n.queueControls(tx, []queued{{g.Inviter, &dmpb.Content{Body: &dmpb.Content_GroupDecline{GroupDecline: &dmpb.GroupDecline{Group: id[:]}}}}})
		return err
	})
	if err != nil {
		return err
	}
	n.kickOutbox(notify)
	n.bus.Publish(Event{Type: EventGroupMember, Group: &GroupEvent{Group: id, State: storage.GroupDeclined.String()}})
	return nil
}

// LeaveGroup leaves a group: it tells the group, then (as owner or admin)
// signs an epoch without this node itself, the owner handing ownership to
// an admin or else a member, or (as a member) asks the owner and admins to.
// The history stays; the group's secrets are deleted.
func (n *Node) LeaveGroup(ctx context.Context, id group.ID) error {
	var latest *group.Roster
	if err := n.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupJoined {
			return fmt.Errorf("%w: not in group %s (%s)", ErrInvalidGroup, id, g.State)
		}
		chain, err := loadChain(tx, g)
		if err == nil {
			latest = chain.latest()
		}
		return err
	}); err != nil {
		return err
	}
	if lg, ok := n.groups.get(id); ok {
		if data, err := n.sealGroup(lg, &dmpb.GroupContent{Body: &dmpb.GroupContent_Left{Left: &dmpb.GroupLeft{}}}); err == nil {
			pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			if err := lg.topic.Publish(pctx, data); err != nil {
				n.log.Debug("group: leave notice not published", "group", id, "err", err)
			}
			cancel()
		}
	}
	self := n.self()
	var err error
	switch latest.Role(self) {
	case group.RoleOwner, group.RoleAdmin:
		if len(latest.Members) > 1 {
			err = n.changeRoster(ctx, id, func(r *group.Roster) ([]group.Member, error) {
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
	err = n.store.Update(func(tx *storage.Txn) error {
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
				qs = append(qs, queued{m.Key.PeerID(), &dmpb.Content{Body: &dmpb.Content_GroupLeave{GroupLeave: &dmpb.GroupLeave{Group: id[:]}}}})
			}
		}
		notify, err = n.queueControls(tx, qs)
		return err
	})
	if err != nil {
		return err
	}
	n.kickOutbox(notify)
	n.stopGroupLive(id)
	n.bus.Publish(Event{Type: EventGroupMember, Group: &GroupEvent{Group: id, State: storage.GroupLeft.String()}})
	return nil
}
