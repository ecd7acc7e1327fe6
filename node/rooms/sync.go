package rooms

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

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/node/rooms/internal/roomspb"
	"github.com/backchannel/backchannel/storage"
)

const (
	// ProtocolSync serves room descriptors, history and the rooms of a name.
	ProtocolSync = "/backchannel/rooms/sync/1.0.0"
	// MaxHistory bounds what a node replays, serves and asks for of a room
	// at once.
	MaxHistory = 1000
	// maxRequestFrame bounds a sync request: what every stream of the node
	// allows a frame (the largest 1:1 ratchet message and an envelope).
	maxRequestFrame = ratchet.MaxMessageSize + 1024
	// maxResponseFrame bounds a sync response.
	maxResponseFrame = 8 << 20
	// syncTimeout bounds one sync exchange.
	syncTimeout = 20 * time.Second
)

// syncRoom asks p for the messages we lack, applies and stores them. A
// newcomer (lr.newcomer) asks for the newest history instead and gives up
// the older rest. It reports whether the answer was full, so that more may
// be waiting.
func (s *Service) syncRoom(lr *liveRoom, p peer.ID) (full bool, err error) {
	id := storage.RoomID(lr.desc.Room)
	var have map[peer.ID]uint64
	if err := s.env.Store.View(func(tx *storage.Txn) error {
		var err error
		have, err = tx.RoomHighWater(id)
		return err
	}); err != nil {
		return false, err
	}
	newest := lr.newcomer.Load()
	req := &roomspb.SyncRequest{Room: lr.desc.Room[:], Limit: MaxHistory, Newest: newest}
	for sender, seq := range have {
		pk, err := senderKey(sender)
		if err != nil {
			continue
		}
		req.Have = append(req.Have, &roomspb.HighWater{Sender: pk, Seq: seq})
	}
	resp, err := s.syncExchange(lr.ctx, p, req)
	if err != nil {
		return false, err
	}
	s.env.Log.Debug("room: synced", "room", lr.desc.Room, "with", p, "have", len(req.Have), "newest", newest, "got", len(resp.Messages))
	batch := make([]arrival, 0, len(resp.Messages))
	for _, data := range resp.Messages {
		m, err := room.UnmarshalMessage(data)
		if err != nil {
			return false, fmt.Errorf("%w: sync: %w", errs.ErrProtocol, err)
		}
		if err := m.Verify(lr.desc.Room); err != nil {
			return false, fmt.Errorf("%w: sync: %w", errs.ErrProtocol, err)
		}
		batch = append(batch, newArrival(m, data, ""))
	}
	floors := map[peer.ID]uint64{}
	if newest {
		for _, f := range resp.Floors {
			p, err := peerFromKey(f.Sender)
			if err != nil {
				return false, err
			}
			floors[p] = f.Seq
		}
	}
	// Stored now, not through the writer: the next sync's marks must count
	// them.
	recs := s.apply(lr, batch)
	// The answer may give back messages of ours that our store lacked (see
	// publish): then our next number must pass them.
	self := s.self()
	_, ours := floors[self]
	for _, r := range recs {
		ours = ours || r.Sender == self
	}
	var own uint64
	var g growth
	if err := s.env.Store.Update(func(tx *storage.Txn) error {
		g = growth{} // Update may run this more than once
		if err := s.putMessages(tx, recs, g); err != nil {
			return err
		}
		for sender, seq := range floors {
			if err := tx.SkipRoomHistory(id, sender, seq); err != nil {
				return err
			}
		}
		if !ours {
			return nil
		}
		hw, err := tx.RoomHighWater(id)
		own = hw[self]
		return err
	}); err != nil {
		return false, err
	}
	s.grew(g) // prunes here, in the room's sync, if the answer took it past its bound
	lr.raiseSeq(own)
	if len(recs) > 0 || len(floors) > 0 {
		lr.newcomer.Store(false) // from now on, gaps are repaired oldest first
	}
	return len(resp.Messages) >= MaxHistory, nil
}

// syncExchange runs one request/response on the sync protocol.
func (s *Service) syncExchange(ctx context.Context, p peer.ID, req *roomspb.SyncRequest) (*roomspb.SyncResponse, error) {
	var resp roomspb.SyncResponse
	if err := frame.Exchange(ctx, s.env.Net.Host(), p, ProtocolSync, syncTimeout, req, &resp, maxResponseFrame); err != nil {
		return nil, fmt.Errorf("sync with %s: %w", p.ShortString(), err)
	}
	if resp.Error != "" {
		return nil, fmt.Errorf("sync: %s says: %s", p.ShortString(), resp.Error)
	}
	// More than we asked for is refused whole, not trimmed: a peer that
	// ignores the limit is not one to take history from, and what we
	// store per answer stays bounded by what we ask.
	if uint64(len(resp.Messages)) > uint64(req.Limit) {
		return nil, fmt.Errorf("%w: sync: %s answered %d messages, %d asked for", errs.ErrProtocol, p.ShortString(), len(resp.Messages), req.Limit)
	}
	return &resp, nil
}

// handleSync serves ProtocolSync: a room's descriptor and history, or the
// rooms of a name, to a peer.
func (s *Service) handleSync(st network.Stream) {
	p := st.Conn().RemotePeer()
	var req roomspb.SyncRequest
	if err := frame.Serve(st, syncTimeout, &req, maxRequestFrame, func() proto.Message { return s.answerSync(p, &req) }); err != nil {
		s.env.Log.Warn("sync: malformed request", "from", p, "err", err)
	}
}

// answerSync answers a sync request, or says why not.
func (s *Service) answerSync(p peer.ID, req *roomspb.SyncRequest) *roomspb.SyncResponse {
	resp := &roomspb.SyncResponse{}
	if !s.syncs.Allow(string(p)) {
		resp.Error = "rate limited"
	} else if err := s.serveSync(req, resp); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			resp.Error = "unknown room"
		} else {
			s.env.Log.Warn("sync: request failed", "from", p, "err", err)
			resp.Error = "bad request"
		}
	}
	return resp
}

func (s *Service) serveSync(req *roomspb.SyncRequest, resp *roomspb.SyncResponse) error {
	if req.Name != "" {
		return s.env.Store.View(func(tx *storage.Txn) error {
			var err error
			resp.Rooms, err = roomsNamed(tx, req.Name)
			return err
		})
	}
	id, err := room.IDFromBytes(req.Room)
	if err != nil {
		return err
	}
	limit := int(min(req.Limit, MaxHistory))
	return s.env.Store.View(func(tx *storage.Txn) error {
		r, err := tx.Room(storage.RoomID(id))
		if err != nil {
			return err
		}
		if req.WantDescriptor {
			resp.SignedDescriptor = r.Descriptor
		}
		if limit == 0 {
			return nil
		}
		if len(req.Have) == 0 || req.Newest { // a late joiner: the newest, oldest first
			d, err := room.UnmarshalDescriptor(r.Descriptor)
			if err != nil {
				return err
			}
			return s.serveNewest(tx, storage.RoomID(id), d.Host, limit, resp)
		}
		return serveGaps(tx, storage.RoomID(id), req.Have, limit, resp)
	})
}

// serveNewest answers a newcomer: the newest history, oldest first, and the
// floors below which it should give history up.
func (s *Service) serveNewest(tx *storage.Txn, id storage.RoomID, host keys.PublicKey, limit int, resp *roomspb.SyncResponse) error {
	cutoff := time.Now().Add(-s.cfg.HistoryAge)
	ms, err := lateJoinerHistory(tx, id, host, limit, cutoff, time.Now())
	if err != nil {
		return err
	}
	// Oldest first; signed times have millisecond precision, so within one
	// a sender's messages go in their order.
	slices.SortStableFunc(ms, func(a, b storage.RoomMessage) int {
		return cmp.Or(a.Sent.Compare(b.Sent), cmp.Compare(a.Sender, b.Sender), cmp.Compare(a.Seq, b.Seq))
	})
	for _, m := range ms {
		resp.Messages = append(resp.Messages, m.Data)
	}
	ours, err := tx.RoomHighWater(id)
	if err != nil {
		return err
	}
	resp.Floors = historyFloors(ours, ms)
	return nil
}

// serveGaps answers gap repair: per sender, what we hold above the asker's
// mark, oldest first.
func serveGaps(tx *storage.Txn, id storage.RoomID, have []*roomspb.HighWater, limit int, resp *roomspb.SyncResponse) error {
	theirs := map[peer.ID]uint64{}
	for _, hw := range have {
		p, err := peerFromKey(hw.Sender)
		if err != nil {
			return err
		}
		theirs[p] = hw.Seq
	}
	ours, err := tx.RoomHighWater(id)
	if err != nil {
		return err
	}
	for sender, seq := range ours {
		if seq <= theirs[sender] || len(resp.Messages) >= limit {
			continue
		}
		ms, err := tx.RoomSenderMessages(id, sender, theirs[sender], limit-len(resp.Messages))
		if err != nil {
			return err
		}
		for _, m := range ms { // gap repair: what we keep (see pruneLoop)
			resp.Messages = append(resp.Messages, m.Data)
		}
	}
	return nil
}

func senderKey(p peer.ID) ([]byte, error) {
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return nil, err
	}
	return pk[:], nil
}

func peerFromKey(b []byte) (peer.ID, error) {
	pk, err := keys.PublicKeyFromBytes(b)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	return pk.PeerID(), nil
}
