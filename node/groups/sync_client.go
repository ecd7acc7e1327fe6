package groups

import (
	"fmt"
	"math/rand/v2"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/internal/groupspb"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
)

// syncGroupOnce pulls rosters and envelopes this node lacks from one fellow
// member, as long as its answers say there is more.
func (s *Service) syncGroupOnce(lg *liveGroup) error {
	v := lg.view.Load()
	latest := v.rosters[v.latest]
	var peers []peer.ID
	for _, p := range lg.topic.Peers() {
		if pk, err := keys.PublicKeyFromPeerID(p); err == nil && latest.IsMember(pk) {
			peers = append(peers, p)
		}
	}
	if len(peers) == 0 {
		for _, m := range latest.Members {
			p := m.Key.PeerID()
			if p != s.selfID() && s.net.Host().Network().Connectedness(p) == network.Connected {
				peers = append(peers, p)
			}
		}
	}
	if len(peers) == 0 {
		return nil
	}
	p := peers[rand.IntN(len(peers))]
	for range maxGroupSyncRounds {
		req, err := s.groupSyncRequest(lg)
		if err != nil {
			return err
		}
		resp, err := s.exchange(lg.ctx, p, req)
		if err != nil {
			return err
		}
		if err := s.applyGroupSync(lg, resp); err != nil {
			return err
		}
		s.log.Debug("group: synced", "group", lg.id, "with", p, "rosters", len(resp.Rosters), "envelopes", len(resp.Envelopes))
		if !resp.More || len(resp.Envelopes) == 0 {
			return nil
		}
	}
	return nil
}

// groupSyncRequest states what this node holds.
func (s *Service) groupSyncRequest(lg *liveGroup) (*groupspb.GroupSyncRequest, error) {
	v := lg.view.Load()
	req := &groupspb.GroupSyncRequest{Group: lg.id[:], RosterEpoch: v.latest, Limit: maxGroupSync}
	err := s.store.View(func(tx *storage.Txn) error {
		marks, err := tx.GroupMarks(sid(lg.id))
		if err != nil {
			return err
		}
		req.Have = marksToWire(marks)
		return nil
	})
	return req, err
}

// applyGroupSync adopts the rosters of a sync answer (taking the parked keys
// they unlock) and stores the envelopes, each checked against the roster of
// its epoch: the author's signature, whoever served it.
func (s *Service) applyGroupSync(lg *liveGroup, resp *groupspb.GroupSyncResponse) error {
	if len(resp.Rosters) > 0 {
		if err := s.adoptSynced(lg.id, resp.Rosters); err != nil {
			return err
		}
	}
	v := lg.view.Load()
	var batch []incoming
	for _, d := range resp.Envelopes {
		e, err := group.UnmarshalEnvelope(d)
		if err != nil {
			return fmt.Errorf("%w: sync: %w", errs.ErrProtocol, err)
		}
		if e.Group != lg.id {
			return fmt.Errorf("%w: sync: envelope of another group", errs.ErrProtocol)
		}
		r := v.rosters[e.Epoch]
		if r == nil {
			continue // an epoch we do not hold the roster of
		}
		if err := r.CheckSender(e); err != nil {
			return fmt.Errorf("%w: sync: %w", errs.ErrProtocol, err)
		}
		batch = append(batch, incoming{e, d})
		if len(batch) == storeBatch {
			if err := s.storeEnvelopes(lg.id, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return s.storeEnvelopes(lg.id, batch)
}

// adoptSynced adopts rosters a fellow member served, oldest first.
func (s *Service) adoptSynced(id group.ID, encoded [][]byte) error {
	var rs []*group.Roster
	for _, b := range encoded {
		r, err := group.UnmarshalRoster(b)
		if err != nil {
			return fmt.Errorf("%w: sync: %w", errs.ErrProtocol, err)
		}
		rs = append(rs, r)
	}
	unlock := s.lock(id)
	var (
		epochs  []uint64
		changed bool
		reapply []func()
	)
	err := s.store.Update(func(tx *storage.Txn) error {
		epochs, changed, reapply = nil, false, nil
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupJoined {
			return nil
		}
		chain, err := loadChain(tx, g)
		if err != nil {
			return err
		}
		for _, r := range rs {
			res, lost, err := adoptRoster(tx, id, chain, r)
			if err != nil {
				return err
			}
			changed = changed || res == adoptAppended || res == adoptSwitched
			if res == adoptSwitched && lost.Signer == s.self() {
				prev := chain.at(r.Epoch - 1)
				reapply = append(reapply, func() { s.reapply(id, prev, lost) })
			}
		}
		epochs, err = unparkKeys(tx, g, chain, s.self())
		return err
	})
	unlock()
	if err != nil {
		return err
	}
	if changed {
		s.bus.Publish(event.Event{Type: event.GroupMember, Group: &event.Group{Group: id, State: storage.GroupJoined.String()}})
	}
	s.keysArrived(id, epochs)
	for _, f := range reapply {
		f()
	}
	return nil
}
