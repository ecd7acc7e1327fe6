// Package groupsync is a private group's history sync,
// /backchannel/groups/sync/1.0.0: one GroupSyncRequest (the asker's
// per-(epoch, sender) marks and newest roster epoch), one GroupSyncResponse.
// It holds the exchange on the wire (Ask, Serve), what a member answers from
// its store (Answer), and how the asker reads an answer (Rosters,
// Envelopes: each envelope checked against its epoch's roster, whoever
// served it). Package groups decides with whom and when to sync, and
// adopts and stores what comes back under its per-group lock.
package groupsync

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/storage"
)

// Protocol is the group history sync protocol: one varint-delimited
// GroupSyncRequest, one GroupSyncResponse.
const Protocol = "/backchannel/groups/sync/1.0.0"

const (
	// MaxEnvelopes bounds the envelopes one answer carries.
	MaxEnvelopes = 1000
	// maxAnswerBytes bounds an answer's envelopes in bytes, well below
	// MaxResponseFrame.
	maxAnswerBytes = 4 << 20
	// MaxResponseFrame bounds a sync response.
	MaxResponseFrame = 8 << 20
	// MaxRequestFrame bounds a sync request (a mark per epoch and sender of
	// what the asker holds) as the node bounds every request frame.
	MaxRequestFrame = ratchet.MaxMessageSize + 1024
	// timeout bounds one exchange.
	timeout = 20 * time.Second
)

// Ask runs one exchange with p. An answer carrying an error ("unknown
// group", "rate limited", "bad request") is an error.
func Ask(ctx context.Context, h host.Host, p peer.ID, req *groupspb.GroupSyncRequest) (*groupspb.GroupSyncResponse, error) {
	var resp groupspb.GroupSyncResponse
	if err := frame.Exchange(ctx, h, p, Protocol, timeout, req, &resp, MaxResponseFrame); err != nil {
		return nil, fmt.Errorf("group sync with %s: %w", p.ShortString(), err)
	}
	if resp.Error != "" {
		return nil, fmt.Errorf("group sync: %s says: %s", p.ShortString(), resp.Error)
	}
	return &resp, nil
}

// Serve answers one request on st, a stream a peer opened: "rate limited"
// when allow refuses the peer, else what answer gives, or the error that
// says why not ("unknown group" for a group not found, which tells a
// non-member nothing; "bad request" for the rest, logged).
func Serve(st network.Stream, allow func(peer.ID) bool, log *slog.Logger,
	answer func(peer.ID, *groupspb.GroupSyncRequest) (*groupspb.GroupSyncResponse, error)) {
	p := st.Conn().RemotePeer()
	var req groupspb.GroupSyncRequest
	respond := func() proto.Message {
		if !allow(p) {
			return &groupspb.GroupSyncResponse{Error: "rate limited"}
		}
		resp, err := answer(p, &req)
		switch {
		case errors.Is(err, storage.ErrNotFound) || errors.Is(err, errs.ErrNotFound):
			return &groupspb.GroupSyncResponse{Error: "unknown group"}
		case err != nil:
			log.Warn("group sync: request failed", "from", p, "err", err)
			return &groupspb.GroupSyncResponse{Error: "bad request"}
		}
		return resp
	}
	if err := frame.Serve(st, timeout, &req, MaxRequestFrame, respond); err != nil {
		log.Warn("group sync: malformed request", "from", p, "err", err)
	}
}

// Request states what the asker holds of group id: its marks, read in tx,
// and the epoch of its newest roster.
func Request(tx *storage.Txn, id group.ID, rosterEpoch uint64) (*groupspb.GroupSyncRequest, error) {
	marks, err := tx.GroupMarks(storage.GroupID(id))
	if err != nil {
		return nil, err
	}
	return &groupspb.GroupSyncRequest{Group: id[:], RosterEpoch: rosterEpoch, Limit: MaxEnvelopes, Have: MarksToWire(marks)}, nil
}

// MarksToWire puts stored marks on the wire (sync requests, receipts).
func MarksToWire(ms []storage.GroupMark) []*groupspb.GroupMark {
	var out []*groupspb.GroupMark
	for _, m := range ms {
		pk, err := keys.PublicKeyFromPeerID(m.Sender)
		if err != nil {
			continue
		}
		out = append(out, &groupspb.GroupMark{Epoch: m.Epoch, Sender: pk[:], Next: m.Next})
	}
	return out
}

// Rosters decodes an answer's rosters, oldest first.
func Rosters(resp *groupspb.GroupSyncResponse) ([]*group.Roster, error) {
	var rs []*group.Roster
	for _, b := range resp.Rosters {
		r, err := group.UnmarshalRoster(b)
		if err != nil {
			return nil, fmt.Errorf("%w: sync: %w", errs.ErrProtocol, err)
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// Envelopes hands each envelope of an answer to each, in order, once it is
// checked against the roster of its epoch (rosterAt): signed by a member of
// it, whoever served it. An envelope of an epoch whose roster the asker does
// not hold is left out; a malformed one, one of another group or one that
// fails its check ends it with an error wrapping errs.ErrProtocol.
func Envelopes(resp *groupspb.GroupSyncResponse, id group.ID, rosterAt func(epoch uint64) *group.Roster,
	each func(e *group.Envelope, data []byte) error) error {
	for _, d := range resp.Envelopes {
		e, err := group.UnmarshalEnvelope(d)
		if err != nil {
			return fmt.Errorf("%w: sync: %w", errs.ErrProtocol, err)
		}
		if e.Group != id {
			return fmt.Errorf("%w: sync: envelope of another group", errs.ErrProtocol)
		}
		r := rosterAt(e.Epoch)
		if r == nil {
			continue // an epoch we do not hold the roster of
		}
		if err := r.CheckSender(e); err != nil {
			return fmt.Errorf("%w: sync: %w", errs.ErrProtocol, err)
		}
		if err := each(e, d); err != nil {
			return err
		}
	}
	return nil
}

// markKey names a high-water mark.
type markKey struct {
	epoch  uint64
	sender peer.ID
}

// Answer answers asker about g, a group this node holds, reading tx: the
// rosters after the one it holds (if it is in the newest), and the
// envelopes above its marks of every epoch whose roster lists it. A peer
// that is no member of any epoch we hold learns nothing, not even that we
// know the group: the error wraps storage.ErrNotFound, as for a group left.
func Answer(tx *storage.Txn, g storage.Group, asker keys.PublicKey, req *groupspb.GroupSyncRequest) (*groupspb.GroupSyncResponse, error) {
	have, err := haveMarks(req.Have)
	if err != nil {
		return nil, err
	}
	limit := MaxEnvelopes
	if req.Limit > 0 {
		limit = min(limit, int(req.Limit))
	}
	if g.State != storage.GroupJoined {
		return nil, storage.ErrNotFound
	}
	chain, err := rosterchain.Load(tx, g)
	if err != nil {
		return nil, err
	}
	if !slices.ContainsFunc(chain.Rosters, func(r *group.Roster) bool { return r.IsMember(asker) }) {
		return nil, storage.ErrNotFound
	}
	resp := &groupspb.GroupSyncResponse{}
	if chain.Latest().IsMember(asker) {
		if resp.Rosters, err = chain.After(req.RosterEpoch); err != nil {
			return nil, err
		}
	}
	if err := envelopesAbove(tx, g, chain, asker, have, limit, resp); err != nil {
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

// envelopesAbove adds to resp the envelopes above the asker's marks of the
// epochs whose rosters list it, up to limit envelopes or maxAnswerBytes,
// setting More when it stops short.
func envelopesAbove(tx *storage.Txn, g storage.Group, chain *rosterchain.Chain, pk keys.PublicKey, have map[markKey]uint64, limit int, resp *groupspb.GroupSyncResponse) error {
	marks, err := tx.GroupMarks(g.ID)
	if err != nil {
		return err
	}
	slices.SortFunc(marks, func(a, b storage.GroupMark) int {
		return cmp.Or(cmp.Compare(a.Epoch, b.Epoch), cmp.Compare(a.Sender, b.Sender))
	})
	size, count := 0, 0
	for _, m := range marks {
		if r := chain.At(m.Epoch); r == nil || !r.IsMember(pk) {
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
			if count >= limit || size+len(e.Data) > maxAnswerBytes {
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
