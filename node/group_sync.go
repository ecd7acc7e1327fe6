package node

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// ProtocolGroupSync serves a private group's history to its members.
const ProtocolGroupSync = "/backchannel/groups/sync/1.0.0"

const (
	// maxGroupSyncFrame bounds a group sync answer on the wire.
	maxGroupSyncFrame = 8 << 20
	// groupSyncTimeout bounds one group sync exchange.
	groupSyncTimeout = 20 * time.Second
	// maxGroupSync bounds the envelopes one group sync answer carries.
	maxGroupSync = 1000
	// maxGroupSyncBytes bounds an answer's envelopes in bytes, well below
	// maxGroupSyncFrame.
	maxGroupSyncBytes = 4 << 20
	// maxGroupSyncRounds bounds how many exchanges one sync makes with a
	// peer whose answers say there is more.
	maxGroupSyncRounds = 32
	// storeBatch bounds how many synced envelopes one transaction stores.
	storeBatch = 128
	// maxUnreadScan bounds the newest messages a group's unread count
	// looks at (the bound rooms put on their history, which it used to
	// borrow).
	maxUnreadScan = 1000
)

// handleGroupSync serves /backchannel/groups/sync/1.0.0: one request, one
// answer, rate limited per peer.
func (n *Node) handleGroupSync(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	_ = s.SetDeadline(time.Now().Add(groupSyncTimeout))
	var req dmpb.GroupSyncRequest
	if err := readFrame(bufio.NewReader(s), &req); err != nil {
		n.log.Warn("group sync: malformed request", "from", p, "err", err)
		s.Reset()
		return
	}
	resp := &dmpb.GroupSyncResponse{Error: "rate limited"}
	if n.gate.allowSync(p) {
		resp = n.serveGroupSyncRequest(p, &req)
	}
	if err := writeFrame(s, resp); err != nil {
		s.Reset()
	}
}

// serveGroupSyncRequest answers a sync request about a private group.
func (n *Node) serveGroupSyncRequest(p peer.ID, req *dmpb.GroupSyncRequest) *dmpb.GroupSyncResponse {
	g, err := n.serveGroupSync(p, req)
	switch {
	case errors.Is(err, storage.ErrNotFound) || errors.Is(err, ErrNotFound):
		return &dmpb.GroupSyncResponse{Error: "unknown group"}
	case err != nil:
		n.log.Warn("group sync: request failed", "from", p, "err", err)
		return &dmpb.GroupSyncResponse{Error: "bad request"}
	}
	return g
}

// groupSyncExchange runs one request/response on the group sync protocol.
func (n *Node) groupSyncExchange(p peer.ID, req *dmpb.GroupSyncRequest) (*dmpb.GroupSyncResponse, error) {
	ctx, cancel := context.WithTimeout(n.ctx, groupSyncTimeout)
	defer cancel()
	s, err := n.net.Host().NewStream(ctx, p, ProtocolGroupSync)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(groupSyncTimeout))
	if err := writeFrame(s, req); err != nil {
		s.Reset()
		return nil, err
	}
	var resp dmpb.GroupSyncResponse
	if err := readFrameLimit(bufio.NewReader(s), &resp, maxGroupSyncFrame); err != nil {
		s.Reset()
		return nil, err
	}
	if resp.Error != "" {
		return nil, fmt.Errorf("group sync: %s says: %s", p.ShortString(), resp.Error)
	}
	return &resp, nil
}

// markKey names a high-water mark.
type markKey struct {
	epoch  uint64
	sender peer.ID
}

// serveGroupSync answers a fellow member: the rosters after the one it
// holds (if it is in the newest), and the envelopes above its marks of every
// epoch whose roster lists it. A peer that is no member of any epoch we hold
// learns nothing, not even that we know the group.
func (n *Node) serveGroupSync(p peer.ID, req *dmpb.GroupSyncRequest) (*dmpb.GroupSyncResponse, error) {
	gid, err := group.IDFromBytes(req.Group)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	if _, ok := n.groups.get(gid); !ok {
		return nil, storage.ErrNotFound
	}
	have := map[markKey]uint64{}
	for _, m := range req.Have {
		spk, err := keys.PublicKeyFromBytes(m.Sender)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrProtocol, err)
		}
		have[markKey{m.Epoch, spk.PeerID()}] = m.Next
	}
	limit := maxGroupSync
	if req.Limit > 0 {
		limit = min(limit, int(req.Limit))
	}
	resp := &dmpb.GroupSyncResponse{}
	err = n.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, gid)
		if err != nil {
			return err
		}
		if g.State != storage.GroupJoined {
			return storage.ErrNotFound
		}
		chain, err := loadChain(tx, g)
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(chain.rosters, func(r *group.Roster) bool { return r.IsMember(pk) }) {
			return storage.ErrNotFound
		}
		if chain.latest().IsMember(pk) {
			for _, r := range chain.rosters {
				if r.Epoch > req.RosterEpoch {
					b, err := r.MarshalBinary()
					if err != nil {
						return err
					}
					resp.Rosters = append(resp.Rosters, b)
				}
			}
		}
		marks, err := tx.GroupMarks(g.ID)
		if err != nil {
			return err
		}
		slices.SortFunc(marks, func(a, b storage.GroupMark) int {
			return cmp.Or(cmp.Compare(a.Epoch, b.Epoch), cmp.Compare(a.Sender, b.Sender))
		})
		size, count := 0, 0
		for _, m := range marks {
			if r := chain.at(m.Epoch); r == nil || !r.IsMember(pk) {
				continue
			}
			from := have[markKey{m.Epoch, m.Sender}]
			if m.Next <= from && m.Next > 0 {
				continue // they hold all we hold without a gap
			}
			es, err := tx.GroupEnvelopes(g.ID, m.Epoch, m.Sender, from, limit-count)
			if err != nil {
				return err
			}
			for _, e := range es {
				if count >= limit || size+len(e.Data) > maxGroupSyncBytes {
					resp.More = true
					return nil
				}
				resp.Envelopes = append(resp.Envelopes, e.Data)
				size += len(e.Data)
				count++
			}
			if count >= limit {
				resp.More = true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// syncGroupOnce pulls rosters and envelopes this node lacks from one fellow
// member, as long as its answers say there is more.
func (n *Node) syncGroupOnce(lg *liveGroup) error {
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
			if p != n.ID() && n.net.Host().Network().Connectedness(p) == network.Connected {
				peers = append(peers, p)
			}
		}
	}
	if len(peers) == 0 {
		return nil
	}
	p := peers[rand.IntN(len(peers))]
	for range maxGroupSyncRounds {
		req, err := n.groupSyncRequest(lg)
		if err != nil {
			return err
		}
		resp, err := n.groupSyncExchange(p, req)
		if err != nil {
			return err
		}
		if err := n.applyGroupSync(lg, resp); err != nil {
			return err
		}
		n.log.Debug("group: synced", "group", lg.id, "with", p, "rosters", len(resp.Rosters), "envelopes", len(resp.Envelopes))
		if !resp.More || len(resp.Envelopes) == 0 {
			return nil
		}
	}
	return nil
}

// groupSyncRequest states what this node holds.
func (n *Node) groupSyncRequest(lg *liveGroup) (*dmpb.GroupSyncRequest, error) {
	v := lg.view.Load()
	req := &dmpb.GroupSyncRequest{Group: lg.id[:], RosterEpoch: v.latest, Limit: maxGroupSync}
	err := n.store.View(func(tx *storage.Txn) error {
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
func (n *Node) applyGroupSync(lg *liveGroup, resp *dmpb.GroupSyncResponse) error {
	if len(resp.Rosters) > 0 {
		if err := n.adoptSynced(lg.id, resp.Rosters); err != nil {
			return err
		}
	}
	v := lg.view.Load()
	var batch []incoming
	for _, d := range resp.Envelopes {
		e, err := group.UnmarshalEnvelope(d)
		if err != nil {
			return fmt.Errorf("%w: sync: %w", ErrProtocol, err)
		}
		if e.Group != lg.id {
			return fmt.Errorf("%w: sync: envelope of another group", ErrProtocol)
		}
		r := v.rosters[e.Epoch]
		if r == nil {
			continue // an epoch we do not hold the roster of
		}
		if err := r.CheckSender(e); err != nil {
			return fmt.Errorf("%w: sync: %w", ErrProtocol, err)
		}
		batch = append(batch, incoming{e, d})
		if len(batch) == storeBatch {
			if err := n.storeEnvelopes(lg.id, batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return n.storeEnvelopes(lg.id, batch)
}

// adoptSynced adopts rosters a fellow member served, oldest first.
func (n *Node) adoptSynced(id group.ID, encoded [][]byte) error {
	var rs []*group.Roster
	for _, b := range encoded {
		r, err := group.UnmarshalRoster(b)
		if err != nil {
			return fmt.Errorf("%w: sync: %w", ErrProtocol, err)
		}
		rs = append(rs, r)
	}
	l := n.groups.lock(id)
	l.Lock()
	var (
		epochs  []uint64
		changed bool
		reapply []func()
	)
	err := n.store.Update(func(tx *storage.Txn) error {
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
			if res == adoptSwitched && lost.Signer == n.self() {
				prev := chain.at(r.Epoch - 1)
				reapply = append(reapply, func() { n.reapply(id, prev, lost) })
			}
		}
		epochs, err = unparkKeys(tx, g, chain, n.self())
		return err
	})
	l.Unlock()
	if err != nil {
		return err
	}
	if changed {
		n.bus.Publish(Event{Type: EventGroupMember, Group: &GroupEvent{Group: id, State: storage.GroupJoined.String()}})
	}
	n.keysArrived(id, epochs)
	for _, f := range reapply {
		f()
	}
	return nil
}
