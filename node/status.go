package node

import (
	"fmt"
	"unicode/utf8"

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

const settingProfileName = "profile/name"

func (n *Node) profileName() string {
	var name string
	_ = n.store.View(func(tx *storage.Txn) error {
		b, err := tx.GetSetting(settingProfileName)
		name = string(b)
		return err
	})
	return name
}

// SetProfileName sets the display name shared with accepted contacts.
func (n *Node) SetProfileName(name string) error {
	if len(name) > maxProfileName || !utf8.ValidString(name) {
		return fmt.Errorf("%w: name longer than %d bytes or not UTF-8", ErrTooLarge, maxProfileName)
	}
	return n.store.Update(func(tx *storage.Txn) error { return tx.PutSetting(settingProfileName, []byte(name)) })
}

// Self returns the node's peer ID, addresses and invite link.
func (n *Node) Self() SelfInfo {
	inv := Invite{Peer: n.ID(), Addrs: n.net.Host().Addrs(), Name: n.profileName()}
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
