package storage

import (
	"errors"

	"github.com/dgraph-io/badger/v4"
)

// Errors returned by this package, wrapped with context; test with errors.Is.
var (
	// ErrNotFound: the record does not exist.
	ErrNotFound = errors.New("storage: not found")
	// ErrClosed: the Store has been closed.
	ErrClosed = errors.New("storage: store closed")
	// ErrSchemaTooNew: the store on disk was written by a newer version of
	// Backchannel than this one understands.
	ErrSchemaTooNew = errors.New("storage: schema version too new")
	// ErrAmbiguous: a lookup by name matched more than one contact or room.
	ErrAmbiguous = errors.New("storage: ambiguous name")
	// ErrInvalid: an argument or record is unusable (empty peer ID, zero
	// message ID, missing timestamp, empty key, ...).
	ErrInvalid = errors.New("storage: invalid argument")
	// ErrMismatch: PutMessage would change a stored message's timestamp or
	// direction, which are part of its identity; or PutRoomMessage was given
	// a different message with the sender and seq of a stored one.
	ErrMismatch = errors.New("storage: message does not match the stored one")
	// ErrWrongKey: the store cannot be opened with Config.EncryptionKey: it
	// is encrypted under another key, or encrypted and no key was given, or
	// not encrypted and a key was. It wraps Badger's
	// ErrEncryptionKeyMismatch; nothing on disk was changed.
	ErrWrongKey = errors.New("storage: wrong encryption key")
	// ErrLocked: Open or ChangeKey found the store open in a process.
	ErrLocked = errors.New("storage: store in use")
	// ErrFull: a bounded set of records is at its limit (a room's ballots,
	// PutRoomBallot); nothing was stored.
	ErrFull = errors.New("storage: full")
	// ErrCorrupt: a stored record cannot be decoded.
	ErrCorrupt = errors.New("storage: corrupt record")
	// ErrConflict: a transaction still conflicted with concurrent ones after
	// Update's retries. It is Badger's error.
	ErrConflict = badger.ErrConflict
	// ErrTxnTooBig: a transaction holds more writes than Badger takes in one
	// commit. It is Badger's error.
	ErrTxnTooBig = badger.ErrTxnTooBig
)
