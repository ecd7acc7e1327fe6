package rooms

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/node/rooms/internal/roomspb"
	"github.com/backchannel/backchannel/storage"
)

// roomCID is the DHT key under which members of a room announce themselves.
func roomCID(id room.ID) cid.Cid {
	h, err := mh.Sum(id[:], mh.SHA2_256, -1)
	if err != nil {
		panic(err) // SHA-256 is always available
	}
	return cid.NewCidV1(cid.Raw, h)
}

// roomNameCID is the DHT key under which members of rooms named name
// announce themselves: a hash of the folded name, so lookups ignore case.
func roomNameCID(name string) cid.Cid {
	sum := sha256.Sum256([]byte("backchannel/room-name/v1\x00" + strings.ToLower(strings.TrimSpace(name))))
	h, err := mh.Encode(sum[:], mh.SHA2_256)
	if err != nil {
		panic(err)
	}
	return cid.NewCidV1(cid.Raw, h)
}

// DHTKey is the DHT key under which the members of room id announce
// themselves (provider records): a CIDv1, codec raw, of the SHA-256
// multihash of the 32 ID bytes. Exported for the protocol's test vectors.
func DHTKey(id room.ID) cid.Cid { return roomCID(id) }

// NameDHTKey is the DHT key under which the members of rooms named name
// announce themselves (see roomNameCID). Exported for the protocol's test
// vectors.
func NameDHTKey(name string) cid.Cid { return roomNameCID(name) }

// provideRoom keeps this node announced in the DHT as a member of the
// room, under the room's ID and its name, until the room is left: as soon
// as the node has a DHT peer, again after failures and every
// ReprovideInterval (see p2p.Provider).
func (s *Service) provideRoom(lr *liveRoom) {
	p := p2p.Provider{
		Keys:      []cid.Cid{roomCID(lr.desc.Room), roomNameCID(lr.desc.Name)},
		Reprovide: s.cfg.ReprovideInterval,
		Log:       s.env.Log.With("room", lr.desc.Room),
	}
	s.goRoom(lr, func() { p.Run(lr.ctx, s.env.Net) })
}

// fetchDescriptor finds a peer in the room (connected peers first, then DHT
// providers) and asks it for the room's descriptor.
func (s *Service) fetchDescriptor(ctx context.Context, id room.ID) (room.Descriptor, error) {
	if err := s.awaitPeer(ctx); err != nil {
		return room.Descriptor{}, fmt.Errorf("room %s: %w", id, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	h := s.env.Net.Host()
	tried := map[peer.ID]bool{s.self(): true}
	try := func(p peer.ID) (room.Descriptor, bool) {
		if tried[p] {
			return room.Descriptor{}, false
		}
		tried[p] = true
		resp, err := s.syncExchange(ctx, p, &roomspb.SyncRequest{Room: id[:], WantDescriptor: true})
		if err != nil || len(resp.SignedDescriptor) == 0 {
			return room.Descriptor{}, false
		}
		d, err := room.UnmarshalDescriptor(resp.SignedDescriptor)
		if err != nil || d.Verify() != nil || d.Room != id {
			s.env.Log.Warn("room: bad descriptor", "from", p, "room", id)
			return room.Descriptor{}, false
		}
		s.rememberHelper(id, p)
		return d, true
	}
	// The DHT may still be filling (a node that just started) and the host's
	// announcement may still be spreading: look again until the deadline.
	wait := 100 * time.Millisecond
	for {
		for _, p := range h.Network().Peers() {
			if d, ok := try(p); ok {
				return d, nil
			}
		}
		for ai := range s.env.Net.DHT().FindProvidersAsync(ctx, roomCID(id), 20) {
			if ai.ID == s.self() || tried[ai.ID] {
				continue
			}
			if len(ai.Addrs) > 0 {
				h.Peerstore().AddAddrs(ai.ID, ai.Addrs, time.Hour)
			}
			if err := h.Connect(ctx, ai); err != nil {
				continue
			}
			if d, ok := try(ai.ID); ok {
				return d, nil
			}
		}
		select {
		case <-ctx.Done():
			return room.Descriptor{}, fmt.Errorf("%w: no peer found in room %s", errs.ErrNotFound, id)
		case <-time.After(wait):
		}
		// Peers already asked may have joined since: ask them again.
		clear(tried)
		tried[s.self()] = true
		wait = min(2*wait, 2*time.Second)
	}
}

// hasPeers reports whether the node has anyone to ask: a connected peer,
// or a peer in its DHT routing table (which a DHT query dials again).
func (s *Service) hasPeers() bool {
	if len(s.env.Net.Host().Network().Peers()) > 0 {
		return true
	}
	d := s.env.Net.DHT()
	return d != nil && d.RoutingTable().Size() > 0
}

// firstPeerWait is how long a lookup waits for a first connection when the
// node knows peers' addresses but is connected to none: it may be dialling
// them (a daemon that just started, its bootstrap peers, its peerbook's).
const firstPeerWait = 10 * time.Second

// awaitPeer returns nil once the node has someone to ask (hasPeers). A node
// that knows other peers' addresses waits up to firstPeerWait for one to
// connect; one that knows none has no one to ask. Otherwise, the error
// wraps errs.ErrNoPeers.
func (s *Service) awaitPeer(ctx context.Context) error {
	if s.hasPeers() {
		return nil
	}
	known := 0
	for _, p := range s.env.Net.Host().Peerstore().PeersWithAddrs() {
		if p != s.self() {
			known++
		}
	}
	if known == 0 {
		return errs.ErrNoPeers
	}
	ctx, cancel := context.WithTimeout(ctx, firstPeerWait)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for !s.hasPeers() {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (none of the %s it knows answered)", errs.ErrNoPeers, peers(known))
		case <-tick.C:
		}
	}
	return nil
}

// peers is "1 peer" or "N peers".
func peers(n int) string {
	if n == 1 {
		return "1 peer"
	}
	return fmt.Sprintf("%d peers", n)
}

// DiscoverRooms finds rooms by name: it asks the connected peers, and the
// peers the DHT knows to have announced the name, for the rooms of that
// name they are in. Each result is a verified, host-signed descriptor. With
// no peer to ask it fails with errs.ErrNoPeers (see awaitPeer); when no one knows
// the name, its errs.ErrNotFound says how many peers were asked.
func (s *Service) DiscoverRooms(ctx context.Context, name string) ([]Info, error) {
	if err := s.awaitPeer(ctx); err != nil {
		return nil, fmt.Errorf("looking for room %q: %w", name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	h := s.env.Net.Host()
	found := map[room.ID]room.Descriptor{}
	asked := map[peer.ID]bool{s.self(): true}
	everAsked := map[peer.ID]bool{} // for the error: how many peers were asked
	ask := func(p peer.ID) {
		if asked[p] {
			return
		}
		asked[p] = true
		everAsked[p] = true
		resp, err := s.syncExchange(ctx, p, &roomspb.SyncRequest{Name: name})
		if err != nil {
			return
		}
		for _, b := range resp.Rooms {
			d, err := room.UnmarshalDescriptor(b)
			if err != nil || d.Verify() != nil || !strings.EqualFold(d.Name, strings.TrimSpace(name)) {
				continue
			}
			found[d.Room] = d
			s.rememberHelper(d.Room, p)
		}
	}
	// The connected peers are asked once: one that joins a room of that name
	// later announces it in the DHT, where the next rounds look.
	for _, p := range h.Network().Peers() {
		ask(p)
	}
	wait := 100 * time.Millisecond
	for len(found) == 0 {
		for ai := range s.env.Net.DHT().FindProvidersAsync(ctx, roomNameCID(name), 20) {
			if asked[ai.ID] {
				continue
			}
			if len(ai.Addrs) > 0 {
				h.Peerstore().AddAddrs(ai.ID, ai.Addrs, time.Hour)
			}
			if err := h.Connect(ctx, ai); err == nil {
				ask(ai.ID)
			}
		}
		if len(found) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			if len(everAsked) == 0 {
				// Only stale DHT entries: no one was there to ask.
				return nil, fmt.Errorf("looking for room %q: %w", name, errs.ErrNoPeers)
			}
			return nil, fmt.Errorf("%w: no room named %q found among %s", errs.ErrNotFound, name, peers(len(everAsked)))
		case <-time.After(wait):
		}
		clear(asked)
		asked[s.self()] = true
		wait = min(2*wait, 2*time.Second)
	}
	var out []Info
	for _, d := range found {
		out = append(out, Info{ID: d.Room, Name: d.Name, Description: d.Description, Host: d.Host.PeerID(), Start: d.Start})
	}
	return out, nil
}

// roomsNamed returns the descriptors of joined rooms with this name.
func roomsNamed(tx *storage.Txn, name string) ([][]byte, error) {
	rs, err := tx.Rooms()
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for _, r := range rs {
		if r.Joined && strings.EqualFold(r.Name, strings.TrimSpace(name)) {
			out = append(out, r.Descriptor)
		}
	}
	return out, nil
}
