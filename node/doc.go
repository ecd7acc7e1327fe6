// Package node is a Backchannel node: it owns the libp2p host, the Kademlia
// DHT, GossipSub, the local store, the 1:1 protocols and private groups, and
// composes the services of its subpackages (live rooms: package rooms, which
// the node starts over its environment and GossipSub and whose methods it
// hands each room call to).
//
// A Node is made with New from a Config, started with Start and stopped with
// Close. It speaks three stream protocols of its own (the rooms service
// serves /backchannel/rooms/sync/1.0.0):
//
//   - /backchannel/prekeys/1.0.0: a peer asks for a prekey bundle; the node
//     mints a fresh one-time prekey for each request (rate limited).
//   - /backchannel/dm/1.0.0: varint-delimited protobuf frames. The sender
//     writes encrypted envelopes; the recipient commits each to its store and
//     only then acks it.
//   - /backchannel/groups/sync/1.0.0: a fellow member of a private group
//     asks for the envelopes and rosters it lacks (rate limited).
//
// Messages to a peer wait in a persistent outbox until acked; it retries with
// backoff, flushes at once when the peer connects, and finds a moved peer
// through the DHT. Messages from peers not yet accepted land in the requests
// inbox, within caps and rate limits; blocked peers' messages are acked and
// dropped.
//
// Private groups run in package groups (node/groups), which serves
// /backchannel/groups/sync/1.0.0; groups_glue.go joins it to the 1:1 code
// and re-exports its types.
package node
