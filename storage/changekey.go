package storage

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// ChangeKey makes the closed store in dir open with newKey instead of
// oldKey, both EncryptionKeySize bytes. It re-encrypts Badger's data keys
// (KEYREGISTRY, rewritten through a rename, so a crash leaves the old key
// or the new one working), not the data: whoever holds a copy of the old
// KEYREGISTRY and the old key can still read the files written so far. It
// refuses to turn a store in clear into an encrypted one or back, as the
// files already written would stay as they are. The store must not be open
// anywhere: ChangeKey takes Badger's folder lock, ErrLocked if it cannot.
func ChangeKey(dir string, oldKey, newKey []byte) error {
	if len(oldKey) != EncryptionKeySize || len(newKey) != EncryptionKeySize {
		return fmt.Errorf("storage: change key: %w: keys of %d and %d bytes, want %d", ErrInvalid, len(oldKey), len(newKey), EncryptionKeySize)
	}
	if _, err := os.Stat(filepath.Join(dir, badger.KeyRegistryFileName)); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			err = ErrNotFound
		}
		return fmt.Errorf("storage: change key: no store in %q: %w", dir, err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return fmt.Errorf("storage: change key in %q: %w", dir, err)
	}
	defer unlock()
	opt := badger.KeyRegistryOptions{Dir: dir, ReadOnly: true, EncryptionKey: oldKey}
	kr, err := badger.OpenKeyRegistry(opt)
	if isKeyMismatch(err) {
		return fmt.Errorf("storage: change key in %q: %w (%w)", dir, ErrWrongKey, err)
	}
	if err != nil {
		return fmt.Errorf("storage: change key in %q: %w", dir, err)
	}
	opt.ReadOnly, opt.EncryptionKey = false, newKey
	if err := badger.WriteKeyRegistry(kr, opt); err != nil {
		return fmt.Errorf("storage: change key in %q: %w", dir, err)
	}
	return restrictModes(dir)
}
