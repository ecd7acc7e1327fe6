package node

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/internal/dmpb"
)

// Peers lists the peers this node has a connection to. The bench (package
// bench) uses it to connect its raw GossipSub baseline the way a room's
// nodes were connected.
func (n *Node) Peers() []peer.ID { return n.net.Host().Network().Peers() }

// GroupMessageSize is how many bytes a private group's text message with
// body text takes on the wire (its sealed, signed envelope), for the bench's
// raw GossipSub baseline, which publishes payloads of the same size.
func GroupMessageSize(text string) (int, error) {
	id, _ := group.NewGroup()
	sc, err := group.NewSendChain(group.GroupKey{Group: id, Epoch: 1, Key: group.NewEpochKey()}, keys.GeneratePrivateKey())
	if err != nil {
		return 0, err
	}
	pt, err := proto.Marshal(&dmpb.GroupContent{SentUnixNano: time.Now().UnixNano(),
		Body: &dmpb.GroupContent_Text{Text: &dmpb.GroupText{Body: text}}})
	if err != nil {
		return 0, err
	}
	env, err := sc.Seal(pt)
	if err != nil {
		return 0, err
	}
	data, err := env.MarshalBinary()
	return len(data), err
}
