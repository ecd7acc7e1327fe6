// Package crypto is the root of Backchannel's cryptography. It holds no code of
// its own: each concern lives in a subpackage, all pure code with no I/O.
//
//   - keys: typed Ed25519 identity keys (the libp2p key) and X25519 keys,
//     domain-separated signatures.
//   - identity: the signed X25519 identity key, signed and one-time prekeys,
//     prekey bundles.
//   - x3dh: the X3DH key agreement that starts a 1:1 session.
//   - ratchet: the Double Ratchet that carries a 1:1 session.
//   - group: group secrets, epoch keys, per-sender chains, signed envelopes,
//     hash-chained rosters.
//   - room: room IDs, descriptors, signed room messages, role grants.
//   - stamp: memory-hard proof-of-work stamps for messages from strangers.
//   - safety: safety numbers for verifying a contact out of band.
//   - safename: the rule for names shown to others (room, group, profile,
//     contact names): UTF-8, no control character, no bidirectional control.
//
// Nothing here imports any other Backchannel package.
package crypto
