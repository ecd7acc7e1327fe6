package node

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
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/storage"
)

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

// DiscoverRooms finds rooms by name: it asks the DHT for peers that announced
// the name and asks them for the rooms of that name they are in. Each result
// is a verified, host-signed descriptor.
func (n *Node) DiscoverRooms(ctx context.Context, name string) ([]RoomInfo, error) {
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	found := map[room.ID]room.Descriptor{}
	asked := map[peer.ID]bool{n.ID(): true}
	ask := func(p peer.ID) {
		if asked[p] {
			return
		}
		asked[p] = true
		resp, err := n.syncExchange(p, &dmpb.SyncRequest{Name: name})
		if err != nil {
			return
		}
		for _, b := range resp.Rooms {
			d, err := room.UnmarshalDescriptor(b)
			if err != nil || d.Verify() != nil || !strings.EqualFold(d.Name, strings.TrimSpace(name)) {
				continue
			}
			found[d.Room] = d
			n.rememberHelper(d.Room, p)
		}
	}
	wait := 100 * time.Millisecond
	for len(found) == 0 {
		for ai := range n.net.DHT().FindProvidersAsync(ctx, roomNameCID(name), 20) {
			if asked[ai.ID] {
				continue
			}
			if len(ai.Addrs) > 0 {
				n.net.Host().Peerstore().AddAddrs(ai.ID, ai.Addrs, time.Hour)
			}
			if err := n.net.Host().Connect(ctx, ai); err == nil {
				ask(ai.ID)
			}
		}
		if len(found) > 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: no room named %q found", ErrNotFound, name)
		case <-time.After(wait):
		}
		clear(asked)
		asked[n.ID()] = true
		wait = min(2*wait, 2*time.Second)
	}
	var out []RoomInfo
	for _, d := range found {
		out = append(out, RoomInfo{ID: d.Room, Name: d.Name, Description: d.Description, Host: d.Host.PeerID(), Start: d.Start})
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
