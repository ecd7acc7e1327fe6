package node

import (
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/storage"
)

// SelfInfo describes this node to its user.
type SelfInfo struct {
	PeerID peer.ID
	Addrs  []string
	Invite string
	Name   string
}

// Status tells how the node is connected.
type Status struct {
	PeerID           peer.ID
	ConnectedPeers   int
	DHTMode          string
	RoutingTableSize int
	Reachability     string
	ListenAddrs      []string
	OutboxPending    int
}

// Self returns the node's peer ID, addresses and invite link.
func (n *Node) Self() SelfInfo {
	inv := n.contacts.Self()
	info := SelfInfo{PeerID: n.ID(), Invite: inv.String(), Name: inv.Name}
	for _, a := range n.Addrs() {
		info.Addrs = append(info.Addrs, a.String())
	}
	return info
}

// Status reports peers, DHT and reachability.
func (n *Node) Status() Status {
	h := n.net.Host()
	st := Status{
		PeerID:           h.ID(),
		ConnectedPeers:   len(h.Network().Peers()),
		DHTMode:          "server",
		RoutingTableSize: n.net.DHT().RoutingTable().Size(),
		Reachability:     n.reachability().String(),
	}
	for _, a := range h.Addrs() {
		st.ListenAddrs = append(st.ListenAddrs, a.String())
	}
	_ = n.store.View(func(tx *storage.Txn) error {
		peers, err := tx.OutboxPeers()
		for _, p := range peers {
			es, err := tx.Outbox(p)
			if err != nil {
				return err
			}
			st.OutboxPending += len(es)
		}
		return err
	})
	return st
}

func (n *Node) reachability() network.Reachability {
	if p2p.AllLoopback(n.cfg.ListenAddrs) {
		return network.ReachabilityPrivate
	}
	return network.ReachabilityUnknown
}
