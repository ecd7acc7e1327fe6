package storekey

import "errors"

// Errors returned by this package, wrapped with context; test with errors.Is.
var (
	// ErrEmptyPassphrase: a passphrase is needed and the one given is empty.
	ErrEmptyPassphrase = errors.New("storekey: empty passphrase")
	// ErrBadParams: the parameters file is unreadable or names an unknown
	// KDF, a missing salt or costs out of range.
	ErrBadParams = errors.New("storekey: bad key parameters")
	// ErrBadKeyFile: a key file does not hold exactly KeySize bytes, or
	// others than its owner may read it.
	ErrBadKeyFile = errors.New("storekey: bad key file")
)
