// Package rooms is Backchannel's live rooms: public rooms of any size, one
// GossipSub topic each, every message signed by its sender and bound to the
// room (see crypto/room), with the room's state (chat, Q&A, roles,
// moderation, presence) computed by package roomstate.
//
// A Service is made with New from a Config (the node's environment, its
// GossipSub and the rooms' settings), started with Start, which rejoins the
// rooms joined before and starts the store writer, and stopped with Close.
// It speaks two stream protocols, each of varint-delimited roomspb frames,
// one request and one answer a stream: /backchannel/rooms/sync/1.0.0
// (ProtocolSync), serving a room's host-signed descriptor, its recent
// history (per-sender high-water marks; a newcomer gets the newest), and the
// rooms of a name; and /backchannel/rooms/ballot/1.0.0 (ProtocolBallot), by
// which a listener of a large room hands its upvote or reaction to the host,
// which tallies them (ballot.go). Members announce a room in the DHT under
// its ID and under a hash of its case-folded name.
//
// The service knows nothing of 1:1 chats or private groups: a private
// question to a speaker (RoomContext, CheckSpeaker) is composed by the node.
package rooms
