// Package node is a Backchannel node: it owns the libp2p host, the Kademlia
// DHT, the local store and the 1:1 protocols.
//
// A Node is made with New from a Config, started with Start and stopped with
// Close. It speaks two stream protocols:
//
//   - /backchannel/prekeys/1.0.0: a peer asks for a prekey bundle; the node
//     mints a fresh one-time prekey for each request (rate limited).
//   - /backchannel/dm/1.0.0: varint-delimited protobuf frames. The sender
//     writes encrypted envelopes; the recipient commits each to its store and
//     only then acks it.
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
