package node

import (
	"github.com/backchannel/backchannel/node/groups"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Peers lists the peers this node has a connection to. The bench (package
// bench) uses it to connect its raw GossipSub baseline the way a room's
// nodes were connected.
func (n *Node) Peers() []peer.ID { return n.net.Host().Network().Peers() }

// GroupMessageSize is how many bytes a private group's text message with
// body text takes on the wire (its sealed, signed envelope), for the bench's
// raw GossipSub baseline, which publishes payloads of the same size.
func GroupMessageSize(text string) (int, error) { return groups.MessageSize(text) }
