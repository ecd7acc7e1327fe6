// Package identity holds a node's long-term key material and what it
// publishes so that others can start an end-to-end session with it:
//
//   - Identity: the Ed25519 key (the libp2p key, so its peer ID is the user's
//     address) and a separate X25519 identity key that the Ed25519 key signs.
//     Ed25519 keys are never converted to X25519.
//   - SignedPreKey: a medium-term X25519 key, signed, with an expiry.
//   - OneTimePreKey: a single-use X25519 key minted per bundle request.
//   - Bundle: what /backchannel/prekeys/1.0.0 returns: identity, signed prekey,
//     optional one-time prekey and the proof-of-work difficulty the node asks
//     of strangers, all signed together.
//
// Every signature is over canonical bytes under a versioned domain, never
// over the protobuf encoding.
package identity
