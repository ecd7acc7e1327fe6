package mailbox

import "errors"

// Errors returned by this package. Functions wrap them with detail; test for
// them with errors.Is.
var (
	// ErrInvalid means a value or an encoding is not well formed: a wrong
	// size or version, a zero key, a peer ID that is not one, times out of
	// order or not whole seconds, trailing bytes.
	ErrInvalid = errors.New("mailbox: invalid")
	// ErrBadSignature means an appointment's signature does not verify under
	// its recipient's key.
	ErrBadSignature = errors.New("mailbox: bad signature")
	// ErrExpired means an appointment is past its expiry.
	ErrExpired = errors.New("mailbox: appointment expired")
	// ErrTooLarge means a frame exceeds MaxFrame.
	ErrTooLarge = errors.New("mailbox: too large")
	// ErrOpen means a sealed item did not open: it was sealed to another key
	// or recipient, changed in any byte, or is not in the form SealBatch
	// makes (lengths, padding, sender).
	ErrOpen = errors.New("mailbox: cannot open item")
)
