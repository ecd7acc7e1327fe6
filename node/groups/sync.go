package groups

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/groups/internal/groupspb"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/storage"
)

const (
	// maxGroupSync bounds the envelopes one group sync answer carries.
	maxGroupSync = 1000
	// maxGroupSyncBytes bounds an answer's envelopes in bytes, well below
	// maxSyncFrame.
	maxGroupSyncBytes = 4 << 20
	// maxGroupSyncRounds bounds how many exchanges one sync makes with a
	// peer whose answers say there is more.
	maxGroupSyncRounds = 32
	// storeBatch bounds how many synced envelopes one transaction stores.
	storeBatch = 128
)

// ProtocolSync is the group history sync protocol: one varint-delimited
// GroupSyncRequest, one GroupSyncResponse.
const ProtocolSync = "/backchannel/groups/sync/1.0.0"

const (
	// maxSyncFrame bounds a sync response.
	maxSyncFrame = 8 << 20
	// maxSyncRequest bounds a sync request (a mark per epoch and sender of
	// what the asker holds) as the node bounds every request frame.
	maxSyncRequest = ratchet.MaxMessageSize + 1024
	// syncTimeout bounds one sync exchange.
	syncTimeout = 20 * time.Second
)

// handleSync serves /backchannel/groups/sync/1.0.0 to a fellow member.
func (s *Service) handleSync(st network.Stream) {
	p := st.Conn().RemotePeer()
	var req groupspb.GroupSyncRequest
	if err := frame.Serve(st, syncTimeout, &req, maxSyncRequest, func() proto.Message { return s.answerSync(p, &req) }); err != nil {
		s.log.Warn("group sync: malformed request", "from", p, "err", err)
	}
}

// answerSync answers a request within the peer's rate, or says why not.
func (s *Service) answerSync(p peer.ID, req *groupspb.GroupSyncRequest) *groupspb.GroupSyncResponse {
	if !s.syncs.Allow(string(p)) {
		return &groupspb.GroupSyncResponse{Error: "rate limited"}
	}
	return s.serveSyncRequest(p, req)
}

// serveSyncRequest answers a sync request, or says why not.
func (s *Service) serveSyncRequest(p peer.ID, req *groupspb.GroupSyncRequest) *groupspb.GroupSyncResponse {
	resp, err := s.serveGroupSync(p, req)
	switch {
	case errors.Is(err, storage.ErrNotFound) || errors.Is(err, errs.ErrNotFound):
		return &groupspb.GroupSyncResponse{Error: "unknown group"}
	case err != nil:
		s.log.Warn("group sync: request failed", "from", p, "err", err)
		return &groupspb.GroupSyncResponse{Error: "bad request"}
	}
	return resp
}

// exchange runs one request/response with p.
func (s *Service) exchange(ctx context.Context, p peer.ID, req *groupspb.GroupSyncRequest) (*groupspb.GroupSyncResponse, error) {
	var resp groupspb.GroupSyncResponse
	if err := frame.Exchange(ctx, s.net.Host(), p, ProtocolSync, syncTimeout, req, &resp, maxSyncFrame); err != nil {
		return nil, fmt.Errorf("group sync with %s: %w", p.ShortString(), err)
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
	have, err := haveMarks(req.Have)
	if err != nil {
		return nil, err
	}
	limit := maxGroupSync
	if req.Limit > 0 {
		limit = min(limit, int(req.Limit))
	}
	resp := &groupspb.GroupSyncResponse{}
	err = s.store.View(func(tx *storage.Txn) error {
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
			if resp.Rosters, err = rostersAfter(chain, req.RosterEpoch); err != nil {
				return err
			}
		}
		return envelopesAbove(tx, g, chain, pk, have, limit, resp)
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// haveMarks reads the marks of a request.
func haveMarks(wire []*groupspb.GroupMark) (map[markKey]uint64, error) {
	have := map[markKey]uint64{}
	for _, m := range wire {
		spk, err := keys.PublicKeyFromBytes(m.Sender)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", errs.ErrProtocol, err)
		}
		have[markKey{m.Epoch, spk.PeerID()}] = m.Next
	}
	return have, nil
}

// rostersAfter encodes the chain's rosters after epoch.
func rostersAfter(chain *rosterChain, epoch uint64) ([][]byte, error) {
	var out [][]byte
	for _, r := range chain.rosters {
		if r.Epoch > epoch {
			b, err := r.MarshalBinary()
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}

// envelopesAbove adds to resp the envelopes above the asker's marks of the
// epochs whose rosters list it, up to limit envelopes or maxGroupSyncBytes,
// setting More when it stops short.
func envelopesAbove(tx *storage.Txn, g storage.Group, chain *rosterChain, pk keys.PublicKey, have map[markKey]uint64, limit int, resp *groupspb.GroupSyncResponse) error {
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
}
