package storage

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// KnownPeer is what the node remembers of where a peer was, so that it finds
// it again after a restart.
type KnownPeer struct {
	Peer         peer.ID
	Addrs        []string // multiaddrs without /p2p/<peer>
	SignedRecord []byte   // libp2p signed peer record envelope; may be empty
	LastSeen     time.Time
	Bootstrap    bool // given as a bootstrap peer: kept until the user forgets it
	Relay        bool // offers circuit relay v2 (a helper)
	DHTServer    bool // serves the DHT
}

// KnownPeer returns what is remembered of p, or ErrNotFound.
func (t *Txn) KnownPeer(p peer.ID) (KnownPeer, error) {
	k, err := peerKey(prefixKnownPeer, p, 0)
	if err != nil {
		return KnownPeer{}, fmt.Errorf("storage: known peer: %w", err)
	}
	var r storepb.KnownPeer
	if err := t.getProto(k, &r); err != nil {
		return KnownPeer{}, fmt.Errorf("storage: known peer %s: %w", p, err)
	}
	return knownPeerFromRecord(p, &r), nil
}

// PutKnownPeer inserts or replaces kp.Peer's entry.
func (t *Txn) PutKnownPeer(kp KnownPeer) error {
	k, err := peerKey(prefixKnownPeer, kp.Peer, 0)
	if err != nil {
		return fmt.Errorf("storage: put known peer: %w", err)
	}
	r := &storepb.KnownPeer{
		Addrs:            kp.Addrs,
		SignedRecord:     kp.SignedRecord,
		LastSeenUnixNano: toUnixNano(kp.LastSeen),
		Bootstrap:        kp.Bootstrap,
		Relay:            kp.Relay,
		DhtServer:        kp.DHTServer,
	}
	return wrap("put known peer", t.setProto(k, r))
}

// DeleteKnownPeer forgets p; forgetting an unknown peer is not an error.
func (t *Txn) DeleteKnownPeer(p peer.ID) error {
	k, err := peerKey(prefixKnownPeer, p, 0)
	if err != nil {
		return fmt.Errorf("storage: delete known peer: %w", err)
	}
	return wrap("delete known peer", t.delete(k))
}

// KnownPeers returns every remembered peer, the most recently seen first.
func (t *Txn) KnownPeers() ([]KnownPeer, error) {
	var out []KnownPeer
	err := t.each([]byte(prefixKnownPeer), func(k, v []byte) error {
		p, _, err := peerFromKey(prefixKnownPeer, k)
		if err != nil {
			return err
		}
		var r storepb.KnownPeer
		if err := proto.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("%w: known peer %s: %w", ErrCorrupt, p, err)
		}
		out = append(out, knownPeerFromRecord(p, &r))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: known peers: %w", err)
	}
	slices.SortFunc(out, func(a, b KnownPeer) int {
		return cmp.Or(b.LastSeen.Compare(a.LastSeen), cmp.Compare(a.Peer, b.Peer))
	})
	return out, nil
}

func knownPeerFromRecord(p peer.ID, r *storepb.KnownPeer) KnownPeer {
	return KnownPeer{
		Peer:         p,
		Addrs:        r.GetAddrs(),
		SignedRecord: r.GetSignedRecord(),
		LastSeen:     unixNano(r.GetLastSeenUnixNano()),
		Bootstrap:    r.GetBootstrap(),
		Relay:        r.GetRelay(),
		DHTServer:    r.GetDhtServer(),
	}
}
