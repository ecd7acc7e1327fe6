package groups

import (
	"errors"
	"fmt"
	"time"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/content"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/storage"
)

// A group control content that does not check out is acked and dropped with
// a log line, not treated as a broken protocol: the sender's outbox would
// otherwise send it again forever.
func (rc *control) dropGroup(what string, err error) error {
	rc.s.log.Warn("group: "+what+" dropped", "from", rc.p, "err", err)
	return nil
}

// groupInvite stores an invitation: the group's secret, name and the
// roster of the epoch that added us, signed by the inviter, whom we trust
// for it. It shows as a message in the inviter's thread.
func (rc *control) groupInvite(c Control, inv *groupspb.GroupInvite) error {
	s := rc.s
	gid, secret, r, err := rc.checkInvite(inv)
	if err != nil {
		return rc.dropGroup("invite", err)
	}
	defer s.lock(gid)()
	now := time.Now().UTC()
	g, err := rc.tx.Group(sid(gid))
	switch {
	case err == nil && g.State == storage.GroupJoined:
		return rc.inviteWhileIn(g, r, inv.Roster, now)
	case err == nil:
		// An invitation again (after leaving, declining, or a newer one):
		// start from its roster.
		if err := rc.tx.DeleteGroupRostersFrom(g.ID, 0); err != nil {
			return err
		}
		if err := rc.tx.DeleteGroupSecrets(g.ID); err != nil {
			return err
		}
	case errors.Is(err, storage.ErrNotFound):
		g = storage.Group{ID: sid(gid), Created: now}
	default:
		return err
	}
	sb, _ := secret.MarshalBinary()
	g.Secret, g.Name, g.NameSent, g.NameID = sb, inv.Name, time.Time{}, [32]byte{}
	g.State, g.Inviter, g.InviteMessage, g.BaseEpoch, g.Updated = storage.GroupInvited, rc.p, c.ID, r.Epoch, now
	if err := rc.tx.PutGroup(g); err != nil {
		return err
	}
	if err := rc.tx.PutGroupRoster(g.ID, r.Epoch, inv.Roster); err != nil {
		return err
	}
	if err := rc.in.Store(storage.Message{ID: c.ID, Peer: rc.p, Direction: storage.Inbound, Kind: KindGroupInvite, Body: inv.Name,
		Sent: content.SentTime(c.SentUnixNano, now), Received: now, State: storage.StateReceived}); err != nil {
		return err
	}
	rc.in.Emit(event.Event{Type: event.GroupInvite, Peer: rc.p, Group: &event.Group{Group: gid, Epoch: r.Epoch, State: storage.GroupInvited.String()}})
	return nil
}

// checkInvite reads an invitation: the group's ID and secret, and the
// roster of the epoch that added us, signed by the sender for this group.
func (rc *control) checkInvite(inv *groupspb.GroupInvite) (group.ID, group.Secret, *group.Roster, error) {
	gid, err := group.IDFromBytes(inv.Group)
	if err != nil {
		return gid, group.Secret{}, nil, err
	}
	secret, err := group.UnmarshalSecret(inv.Secret)
	if err != nil {
		return gid, secret, nil, err
	}
	if err := content.CheckName(inv.Name); err != nil {
		return gid, secret, nil, err
	}
	r, err := group.UnmarshalRoster(inv.Roster)
	if err == nil {
		err = r.VerifySignature()
	}
	if err == nil && (r.Group != gid || r.Signer != rc.pk || !r.IsMember(rc.s.self())) {
		err = fmt.Errorf("%w: the roster is not the inviter's for this group, or does not list us", errs.ErrProtocol)
	}
	return gid, secret, r, err
}

// inviteWhileIn takes an invitation to a group we are in: the roster if it
// follows ours, or a fresh start from it if it is newer and does not (we
// were re-added after a fork we did not see).
func (rc *control) inviteWhileIn(g storage.Group, r *group.Roster, rb []byte, now time.Time) error {
	s, gid := rc.s, group.ID(g.ID)
	chain, err := rosterchain.Load(rc.tx, g)
	if err != nil {
		return err
	}
	if res, _, err := rosterchain.Adopt(rc.tx, gid, chain, r); err == nil && res != rosterchain.Gap && res != rosterchain.Lost {
		rc.in.After(func() { s.refreshGroup(gid) })
		return nil
	}
	if r.Epoch <= chain.Latest().Epoch {
		return nil
	}
	if err := rc.tx.DeleteGroupRostersFrom(g.ID, 0); err != nil {
		return err
	}
	g.BaseEpoch, g.Updated = r.Epoch, now
	if err := rc.tx.PutGroup(g); err != nil {
		return err
	}
	rc.in.After(func() { s.refreshGroup(gid) })
	return rc.tx.PutGroupRoster(g.ID, r.Epoch, rb)
}

// groupKey accepts an epoch's key from the signer of that epoch's roster,
// which comes with it. A roster that does not link to ours yet (we missed
// one) is parked with its key until history sync brings the rosters between.
func (rc *control) groupKey(m *groupspb.GroupKey) error {
	s := rc.s
	gk, err := group.UnmarshalGroupKey(m.Key)
	if err != nil {
		return rc.dropGroup("key", err)
	}
	r, err := group.UnmarshalRoster(m.Roster)
	if err != nil {
		return rc.dropGroup("key", err)
	}
	if r.Group != gk.Group || r.Epoch != gk.Epoch || r.Signer != rc.pk {
		return rc.dropGroup("key", fmt.Errorf("%w: key for epoch %d not from the signer of its roster", errs.ErrProtocol, gk.Epoch))
	}
	gid := gk.Group
	defer s.lock(gid)()
	g, err := rc.tx.Group(sid(gid))
	if errors.Is(err, storage.ErrNotFound) {
		return rc.dropGroup("key", fmt.Errorf("unknown group %s", gid))
	}
	if err != nil {
		return err
	}
	if g.State != storage.GroupJoined && g.State != storage.GroupInvited {
		return nil // we left: keys are of no use
	}
	chain, err := rosterchain.Load(rc.tx, g)
	if err != nil {
		return err
	}
	res, lost, err := rosterchain.Adopt(rc.tx, gid, chain, r)
	if err != nil && r.VerifySignature() != nil {
		return rc.dropGroup("key", err)
	}
	switch {
	case err != nil || res == rosterchain.Gap:
		// Rosters are missing between ours and this one, or it follows a
		// roster of a fork we have not switched to (yet): it waits.
		if err := rosterchain.ParkKey(rc.tx, g, storage.ParkedGroupKey{Epoch: r.Epoch, From: rc.p, Key: m.Key, Roster: m.Roster}); err != nil {
			return err
		}
		rc.in.After(func() { s.syncGroupSoon(gid) })
		return nil
	case res == rosterchain.Lost || res == rosterchain.Stale:
		return nil
	}
	epochs := []uint64{}
	if ok, err := rosterchain.PutKey(rc.tx, g, chain, gk, m.Key, rc.pk.PeerID(), s.self()); err != nil {
		return err
	} else if ok {
		epochs = append(epochs, gk.Epoch)
	}
	more, err := rosterchain.UnparkKeys(rc.tx, g, chain, s.self())
	if err != nil {
		return err
	}
	epochs = append(epochs, more...)
	if res == rosterchain.Switched && lost.Signer == s.self() {
		prev := chain.At(r.Epoch - 1)
		rc.in.After(func() { s.reapply(gid, prev, lost) })
	}
	rc.in.After(func() { s.keysArrived(gid, epochs) })
	return nil
}

// groupDecline: the peer we invited declined; we remove it again.
func (rc *control) groupDecline(m *groupspb.GroupDecline) error {
	gid, err := group.IDFromBytes(m.Group)
	if err != nil {
		return rc.dropGroup("decline", err)
	}
	p := rc.p
	rc.in.After(func() { rc.s.removeOnRequest(gid, p, "declined") })
	return nil
}

// groupLeave: a member left; as owner or admin we start an epoch without it.
func (rc *control) groupLeave(m *groupspb.GroupLeave) error {
	gid, err := group.IDFromBytes(m.Group)
	if err != nil {
		return rc.dropGroup("leave", err)
	}
	p := rc.p
	rc.in.After(func() { rc.s.removeOnRequest(gid, p, "left") })
	return nil
}

// groupRemoved: the signer of a roster that no longer lists us says so. We
// check the roster follows ours, then stop: our secrets go, the history
// stays.
func (rc *control) groupRemoved(m *groupspb.GroupRemoved) error {
	s := rc.s
	gid, err := group.IDFromBytes(m.Group)
	if err != nil {
		return rc.dropGroup("removal", err)
	}
	r, err := group.UnmarshalRoster(m.Roster)
	if err != nil {
		return rc.dropGroup("removal", err)
	}
	if r.Group != gid || r.Signer != rc.pk || r.IsMember(s.self()) {
		return rc.dropGroup("removal", fmt.Errorf("%w: not a roster of this group by the sender without us", errs.ErrProtocol))
	}
	defer s.lock(gid)()
	g, err := rc.tx.Group(sid(gid))
	if errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if g.State != storage.GroupJoined && g.State != storage.GroupInvited {
		return nil
	}
	chain, err := rosterchain.Load(rc.tx, g)
	if err != nil {
		return err
	}
	res, _, err := rosterchain.Adopt(rc.tx, gid, chain, r)
	if err != nil || res == rosterchain.Gap || res == rosterchain.Lost || res == rosterchain.Stale {
		if res == rosterchain.Gap {
			rc.in.After(func() { s.syncGroupSoon(gid) })
		}
		return rc.dropGroup("removal", err)
	}
	if err := rc.tx.DeleteGroupSecrets(g.ID); err != nil {
		return err
	}
	g.State, g.Updated = storage.GroupRemoved, time.Now().UTC()
	if err := rc.tx.PutGroup(g); err != nil {
		return err
	}
	rc.in.Emit(event.Event{Type: event.GroupMember, Peer: rc.p, Group: &event.Group{Group: gid, Epoch: r.Epoch, State: g.State.String()}})
	rc.in.After(func() { s.stopGroupLive(gid) })
	return nil
}
