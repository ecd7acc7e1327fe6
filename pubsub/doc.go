// Package pubsub wraps go-libp2p-pubsub's GossipSub for the node's live rooms
// (and later groups), with the settings every Backchannel topic needs:
//
//   - StrictNoSign and no author: GossipSub neither signs messages nor puts
//     the sending peer's ID and a sequence number in them. Room and group
//     messages carry their own signatures, bound to the room or group, so a
//     libp2p signature would add bytes and reveal which peer published.
//   - Content-hash message IDs: without an author and sequence number the
//     default ID function cannot work, and a content hash makes duplicates
//     collapse whoever relays them. The node passes an ID over the decoded
//     message and its signature (room.WireMessageID), so a relay cannot make
//     a corrupted copy that shadows the real message's ID.
//   - A validator on every topic, run for received and for locally
//     published messages alike: Reject drops a message, never forwards it,
//     and (with scoring) counts against the peer that sent it. Validators
//     run inline on GossipSub's validation workers (one per CPU), not in a
//     goroutine per message: a validator that verifies a signature grows a
//     fresh goroutine's stack every time, and on a busy room that costs as
//     much as the verification.
//     A DecodingValidator (JoinDecoding) also hands what it decoded to the
//     topic's reader, which then need not decode the message again.
//   - Peer scoring: rejected messages push a peer's score down, out of the
//     mesh and then onto GossipSub's graylist, where its RPCs are ignored.
//   - Readiness: GossipSub drops a publish on a topic with no peers yet, so
//     Topic.Publish waits until the topic has a peer (or its context ends).
//
// Limiter is a small per-key token bucket for validators' rate limits.
package pubsub
