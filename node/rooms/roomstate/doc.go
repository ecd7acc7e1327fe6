// Package roomstate computes the state of one live room from its verified
// messages: the visible chat, the question queue with upvotes, answered and
// pinned marks, reactions, roles, mutes, hides and presence. It also defines
// what each kind of room message carries in its Body (Encode* and Decode*).
//
// It is pure and deterministic: no I/O, no goroutines, no clock reads.
// Callers pass the time where an answer depends on it (Allowed, Role,
// Presence, Muted).
//
// Two entry points take messages, for two different questions:
//
//   - Allowed: may this message be forwarded now? The topic validator's
//     policy check, after the signature check (room.Message.Verify): body
//     well formed, sender not muted, moderation only from the host or a
//     current moderator.
//   - Apply: record a message. Idempotent and order-independent: any order
//     of the same set of messages, with any duplicates, gives the same
//     query results. So a late joiner that applies history after the
//     moderation that governs it (a hide before its target, a mute before
//     the muted peer's old lines, an upvote before its question) sees what
//     everyone else sees. Apply's doc comment states the rules.
//   - ApplyBallot: record a ballot (room.Ballot), a listener's upvote or
//     reaction handed to the host of a large room instead of published. It
//     counts as the same vote sent as a message would, with the same
//     guarantees, under bounds of its own. Only the host holds ballots; the
//     others learn their totals from the host's tallies (KindTally).
//
// The state grows with the messages applied; bounding history (by count and
// age) is the caller's.
package roomstate
