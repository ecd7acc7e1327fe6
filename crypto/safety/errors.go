package safety

import "errors"

// Errors returned by this package, wrapped with detail; test with errors.Is.
var (
	// ErrZeroKey means an identity key is the zero value.
	ErrZeroKey = errors.New("safety: zero identity key")
	// ErrSameKey means both identities are the same key; a safety number is
	// between two different identities.
	ErrSameKey = errors.New("safety: both identities are the same key")
	// ErrBadQR means scanned QR bytes are not a safety number QR code: wrong
	// size, unknown version, or impossible content.
	ErrBadQR = errors.New("safety: malformed QR code")
)
