package group

import "errors"

// Errors returned by this package. Functions wrap them with detail; test for
// them with errors.Is.
var (
	// ErrMalformed means encoded data or a value is not well formed: a wrong
	// size, a zero key or ID, members out of order, an unknown role.
	ErrMalformed = errors.New("group: malformed")
	// ErrVersion means encoded data has a version this code does not know.
	ErrVersion = errors.New("group: unknown version")
	// ErrTooLarge means a plaintext, an encoding or a member list exceeds its
	// limit (MaxPlaintext, MaxMembers and the encoded-size limits).
	ErrTooLarge = errors.New("group: too large")
	// ErrBadSignature means a signature does not verify under the key that
	// should have made it.
	ErrBadSignature = errors.New("group: bad signature")
	// ErrDecrypt means a ciphertext failed authentication: the wrong key, or a
	// tampered ciphertext or header.
	ErrDecrypt = errors.New("group: decryption failed")
	// ErrWrongChain means an envelope's group, epoch or sender is not the one
	// of the chain or roster it was checked against.
	ErrWrongChain = errors.New("group: envelope is for another group, epoch or sender")
	// ErrNotMember means a key is not in the roster.
	ErrNotMember = errors.New("group: not a member")
	// ErrReplay means a message's key was already used, or was discarded
	// because it was too old to keep: the message is a duplicate or a replay,
	// or arrived too late.
	ErrReplay = errors.New("group: message already received or too old")
	// ErrTooFarAhead means a message's sequence number would skip more than
	// MaxSkip message keys.
	ErrTooFarAhead = errors.New("group: message too far ahead")
	// ErrChainExhausted means a chain reached MaxSeq; the group must start a
	// new epoch.
	ErrChainExhausted = errors.New("group: chain exhausted")
	// ErrBrokenChain means a roster does not follow the one before it: another
	// group, a skipped epoch, a wrong previous hash or a signer who was not the
	// previous owner.
	ErrBrokenChain = errors.New("group: roster does not follow the previous one")
)
