// Package ratchet implements the Double Ratchet (Signal's specification) that
// carries a Backchannel 1:1 session after X3DH.
//
// A Session encrypts with XChaCha20-Poly1305 under one-time message keys; the
// associated data binds both parties' identities and the message header. It
// tolerates lost, reordered and duplicated messages within bounds: at most
// MaxSkip message keys are skipped over in one chain and at most
// MaxSkippedKeys are kept per session (the oldest are dropped first). A
// message that fails to decrypt leaves the session exactly as it was.
//
// A Session is not safe for concurrent use: the node owns one per peer and
// persists MarshalBinary's output in the same transaction as the message that
// changed it.
package ratchet
