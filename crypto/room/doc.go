// Package room holds the cryptography of live rooms: public conversations of
// any size, carried on one GossipSub topic per room, with no secrecy but with
// every message signed.
//
//   - ID: a room's identifier, SHA-256 over the host's key and a random
//     nonce, so the ID itself names its host and no one else can claim it.
//   - Descriptor: the room's name, description and schedule, signed by the
//     host.
//   - Message: one signed message (chat, question, upvote, ...), bound to its
//     room, kind, sender and per-sender sequence number.
//   - RoleGrant: the host's signed, expiring grant of a role (speaker or
//     moderator) to another key.
//   - Ballot: a listener's signed upvote or reaction, handed to the room's
//     host instead of published on the topic (the host tallies them); it
//     has no sequence number, so it is no part of the room's history.
//
// Verification here is standalone and cheap (one Ed25519 verification, no
// state), for a GossipSub topic validator. What needs state or policy is the
// caller's: whether a timestamp is fresh, whether a sequence number was seen
// already, whether the sender may send a kind (for example a moderator for
// KindHide), rate limits. Binding the room ID into every signature is what
// stops a message or grant from being replayed into another room.
//
// Role grants cannot be revoked yet: a grant holds until it expires, so hosts
// should keep lifetimes short and re-issue grants to extend them.
//
// Times are kept to the millisecond (Unix milliseconds on the wire); Sign
// rounds them and decoders return them in UTC.
package room
