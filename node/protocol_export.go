package node

import "github.com/backchannel/backchannel/node/internal/msgid"

// PubSubMessageID is the GossipSub message ID the node gives data published
// on topic (what its IHAVE and IWANT name): on a room topic the 32 bytes of
// the room message ID (rooms.MessageID), elsewhere, group epoch topics
// among them, the 32 bytes of SHA-256(topic ‖ 0x00 ‖ data). Exported for the
// protocol's test vectors (protocol/vectors); the node itself uses
// msgid.Cache, which answers the same.
func PubSubMessageID(topic string, data []byte) string { return msgid.Of(topic, data) }
