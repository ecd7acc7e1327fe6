package node

import (
	"cmp"
	"fmt"
	"strings"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/rooms"
	"github.com/backchannel/backchannel/pubsub"
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
	DHTMode          string // "server" or "client", as the DHT runs now
	RoutingTableSize int
	Reachability     string // "public", "private" or "unknown"
	ListenAddrs      []string
	ObservedAddrs    []string  // the node's addresses as its peers see them
	Relays           []peer.ID // relays holding a reservation for the node
	Links            []Link    // one per connected contact
	OutboxPending    int
	// Refused counts connections the node's gater refused (addresses
	// outside loopback and the allowed ranges); 0 without a gater.
	Refused int64
	// Topics are the GossipSub topics the node has joined (its live rooms
	// and groups), by kind and name.
	Topics []TopicStatus
}

// TopicStatus is one joined GossipSub topic: its peers, how many of them
// are in the node's mesh, and the lowest peer scores (see pubsub.Stats).
type TopicStatus struct {
	Kind string // "room", "group", or "other"
	// Name is the room's ID or the group's name (the topic's name is not
	// shown for a group); for another topic, the topic's name.
	Name      string
	Peers     int
	MeshPeers int
	Lowest    []pubsub.PeerScore // at most three, lowest first
}

// Link is how the node is connected to one contact.
type Link struct {
	Peer peer.ID
	Name string
	Kind string // "direct" or "relayed"
	// HolePunched: a hole punch made the link direct (it began relayed).
	HolePunched bool
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
		DHTMode:          n.net.DHTMode(),
		RoutingTableSize: n.net.DHT().RoutingTable().Size(),
		Reachability:     strings.ToLower(n.net.Reachability().String()),
		Relays:           n.net.Relays(),
	}
	if n.cfg.Gater != nil {
		st.Refused = n.cfg.Gater.Refused()
	}
	for _, a := range h.Addrs() {
		st.ListenAddrs = append(st.ListenAddrs, a.String())
	}
	for _, a := range n.net.ObservedAddrs() {
		st.ObservedAddrs = append(st.ObservedAddrs, a.String())
	}
	st.Topics = n.topicStatus()
	_ = n.store.View(func(tx *storage.Txn) error {
		cs, err := tx.Contacts()
		if err != nil {
			return err
		}
		for _, c := range cs {
			if kind := n.net.LinkKind(c.Peer); kind != "" && c.State == storage.ContactAccepted {
				st.Links = append(st.Links, Link{Peer: c.Peer, Name: cmp.Or(c.Name, c.ProfileName), Kind: kind, HolePunched: n.net.HolePunched(c.Peer)})
			}
		}
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

// topicStatus names the joined topics' statistics: rooms by ID, groups by
// name.
func (n *Node) topicStatus() []TopicStatus {
	groupNames := map[string]string{} // by topic
	if gs, err := n.groups.Groups(); err == nil {
		for _, g := range gs {
			for t, epoch := range n.groups.EpochTopics(g.ID) {
				groupNames[t] = fmt.Sprintf("%s (epoch %d)", g.Name, epoch)
			}
		}
	}
	stats := n.ps.Stats()
	out := make([]TopicStatus, 0, len(stats))
	for _, ts := range stats {
		t := TopicStatus{Kind: "other", Name: ts.Topic, Peers: ts.Peers, MeshPeers: ts.Mesh, Lowest: ts.Lowest}
		if id, ok := strings.CutPrefix(ts.Topic, rooms.TopicPrefix); ok {
			t.Kind, t.Name = "room", id
		} else if name, ok := groupNames[ts.Topic]; ok {
			t.Kind, t.Name = "group", name
		} else if strings.HasPrefix(ts.Topic, group.TopicPrefix) {
			t.Kind, t.Name = "group", "(closing)" // its name is a secret of the epoch
		}
		out = append(out, t)
	}
	return out
}
