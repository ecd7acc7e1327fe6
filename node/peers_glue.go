package node

import (
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

// wantedPeers are the peers the node dials at start, in order: those it
// has messages queued for, then its accepted contacts, then the members
// of the groups it is in.
func (n *Node) wantedPeers() ([]peer.ID, error) {
	var out []peer.ID
	add := func(p peer.ID) {
		if p != n.ID() && !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	err := n.store.View(func(tx *storage.Txn) error {
		pending, err := tx.OutboxPeers()
		if err != nil {
			return err
		}
		for _, p := range pending {
			add(p)
		}
		cs, err := tx.Contacts()
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.State == storage.ContactAccepted {
				add(c.Peer)
			}
		}
		return nil
	})
	if err != nil {
		return out, err
	}
	gs, err := n.groups.Groups()
	if err != nil {
		return out, err
	}
	for _, g := range gs {
		if g.State != storage.GroupJoined {
			continue
		}
		ps, err := n.groups.MemberPeers(g.ID)
		if err != nil {
			continue
		}
		for _, p := range ps {
			add(p)
		}
	}
	return out, nil
}
