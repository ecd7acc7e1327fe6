package identity

import "errors"

// Errors returned by this package. Decoders and Verify wrap them with detail.
var (
	// ErrBadSignature means a signature does not verify.
	ErrBadSignature = errors.New("identity: bad signature")
	// ErrExpired means a signed prekey is past its expiry.
	ErrExpired = errors.New("identity: signed prekey expired")
	// ErrMalformed means encoded data is not a valid identity, prekey or bundle.
	ErrMalformed = errors.New("identity: malformed")
	// ErrVersion means encoded data has a version this code does not know.
	ErrVersion = errors.New("identity: unknown version")
)
