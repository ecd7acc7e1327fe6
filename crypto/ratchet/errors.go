package ratchet

import "errors"

// Errors returned by Session and the decoders.
var (
	// ErrDecrypt means a message failed authentication: tampered header or
	// ciphertext, or not meant for this session. The session is unchanged.
	ErrDecrypt = errors.New("ratchet: message failed authentication")
	// ErrDuplicate means the message's key was already used (the message was
	// decrypted before) or was discarded under the skip limits.
	ErrDuplicate = errors.New("ratchet: message already decrypted or its key discarded")
	// ErrTooManySkipped means accepting the message would skip more than
	// MaxSkip message keys in one chain.
	ErrTooManySkipped = errors.New("ratchet: too many skipped messages")
	// ErrNotReady means the session cannot send yet (a responder sends only
	// after it has received).
	ErrNotReady = errors.New("ratchet: session has no sending chain yet")
	// ErrMalformed means encoded data is not a valid header, message or state.
	ErrMalformed = errors.New("ratchet: malformed")
	// ErrTooLarge means a plaintext or message exceeds the size limits.
	ErrTooLarge = errors.New("ratchet: message too large")
)
