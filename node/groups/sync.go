package groups

import (
	"fmt"
	"math/rand/v2"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/groupsync"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/storage"
)

const (
	// maxGroupSyncRounds bounds how many exchanges one sync makes with a
	// peer whose answers say there is more.
	maxGroupSyncRounds = 32
	// storeBatch bounds how many synced envelopes one transaction stores.
	storeBatch = 128
)

// ProtocolSync is the group history sync protocol (package groupsync).
const ProtocolSync = groupsync.Protocol

// handleSync serves ProtocolSync to a fellow member, within its rate.
func (s *Service) handleSync(st network.Stream) {
	groupsync.Serve(st, func(p peer.ID) bool { return s.syncs.Allow(string(p)) }, s.log, s.serveGroupSync)
}

// serveGroupSync answers p about a group this node is in (groupsync.Answer).
func (s *Service) serveGroupSync(p peer.ID, req *groupspb.GroupSyncRequest) (*groupspb.GroupSyncResponse, error) {
	gid, err := group.IDFromBytes(req.Group)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	if _, ok := s.get(gid); !ok {
		return nil, storage.ErrNotFound
	}
	var resp *groupspb.GroupSyncResponse
	err = s.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, gid)
		if err != nil {
			return err
		}
		resp, err = groupsync.Answer(tx, g, pk, req)
		return err
	})
	return resp, err
}

// syncGroupOnce pulls rosters and envelopes this node lacks from one fellow
// member, as long as its answers say there is more.
func (s *Service) syncGroupOnce(lg *liveGroup) error {
	v := lg.gate.View()
	latest := v.Rosters[v.Latest]
	var peers []peer.ID
	var topicPeers []peer.ID
	if t := lg.currentTopic(); t != nil {
		topicPeers = t.Peers()
	}
	for _, p := range topicPeers {
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
		resp, err := groupsync.Ask(lg.ctx, s.net.Host(), p, req)
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
	var req *groupspb.GroupSyncRequest
	err := s.store.View(func(tx *storage.Txn) error {
		var err error
		req, err = groupsync.Request(tx, lg.id, lg.gate.View().Latest)
		return err
	})
	return req, err
}

// applyGroupSync adopts the rosters of a sync answer (taking the parked keys
// they unlock) and stores the envelopes, each checked against the roster of
// its epoch: the author's signature, whoever served it.
func (s *Service) applyGroupSync(lg *liveGroup, resp *groupspb.GroupSyncResponse) error {
	if len(resp.Rosters) > 0 {
		if err := s.adoptSynced(lg.id, resp); err != nil {
			return err
		}
	}
	v := lg.gate.View()
	var batch []incoming
	err := groupsync.Envelopes(resp, lg.id, func(epoch uint64) *group.Roster { return v.Rosters[epoch] }, func(e *group.Envelope, d []byte) error {
		batch = append(batch, incoming{e, d})
		if len(batch) < storeBatch {
			return nil
		}
		err := s.storeEnvelopes(lg.id, batch)
		batch = batch[:0]
		return err
	})
	if err != nil {
		return err
	}
	return s.storeEnvelopes(lg.id, batch)
}

// adoptSynced adopts rosters a fellow member served, oldest first.
func (s *Service) adoptSynced(id group.ID, resp *groupspb.GroupSyncResponse) error {
	rs, err := groupsync.Rosters(resp)
	if err != nil {
		return err
	}
	unlock := s.lock(id)
	var (
		epochs  []uint64
		changed bool
		reapply []func()
	)
	err = s.store.Update(func(tx *storage.Txn) error {
		epochs, changed, reapply = nil, false, nil
		g, chain, joined, err := joinedChain(tx, id)
		if err != nil || !joined {
			return err
		}
		for _, r := range rs {
			res, lost, err := rosterchain.Adopt(tx, id, chain, r)
			if err != nil {
				return err
			}
			changed = changed || res == rosterchain.Appended || res == rosterchain.Switched
			if res == rosterchain.Switched && lost.Signer == s.self() {
				prev := chain.At(r.Epoch - 1)
				reapply = append(reapply, func() { s.reapply(id, prev, lost) })
			}
		}
		epochs, err = rosterchain.UnparkKeys(tx, g, chain, s.self())
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
