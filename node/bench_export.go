package node

import "github.com/libp2p/go-libp2p/core/peer"

// Peers lists the peers this node has a connection to. The bench (package
// bench) uses it to connect its raw GossipSub baseline the way a room's
// nodes were connected.
func (n *Node) Peers() []peer.ID { return n.p2p.host.Network().Peers() }
