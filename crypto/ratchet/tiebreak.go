package ratchet

import (
	"bytes"

	"github.com/backchannel/backchannel/crypto/keys"
)

// KeepSessionOf resolves a tie when two peers start sessions with each other
// at once. Each then holds the session it initiated and a responder session
// made from the other's X3DH header. Both sides keep, for sending, the session
// initiated by the identity this function returns (the lower key), so they
// converge on one session without a round trip. The other session stays in
// use for decrypting the messages already sent on it, and is dropped once
// idle.
func KeepSessionOf(a, b keys.PublicKey) keys.PublicKey {
	if bytes.Compare(a[:], b[:]) <= 0 {
		return a
	}
	return b
}
