package storage

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/dgraph-io/badger/v4"
)

// isKeyMismatch reports whether err is Badger's refusal of the encryption
// key: the key registry's check value does not decrypt under the key given
// (a wrong key, none for an encrypted store, or one for a plain store).
func isKeyMismatch(err error) bool {
	return errors.Is(err, badger.ErrEncryptionKeyMismatch)
}

// checkKey refuses cfg.EncryptionKey with ErrWrongKey if the store's key
// registry says it is not the store's key. It reads the registry alone:
// badger.Open would say the same but leaves goroutines running when it
// does. Other errors are left for badger.Open to report.
func checkKey(cfg Config) error {
	if cfg.InMemory {
		return nil
	}
	_, err := badger.OpenKeyRegistry(badger.KeyRegistryOptions{Dir: cfg.Dir, ReadOnly: true, EncryptionKey: cfg.EncryptionKey})
	if isKeyMismatch(err) {
		return fmt.Errorf("storage: open %q: %w (%w)", cfg.Dir, ErrWrongKey, err)
	}
	return nil
}

// restrictModes makes the store's folder 0700 and its files 0600. Badger
// creates most of its files 0600 but its tables, memtables and lock file
// 0666 less the umask, so 0644 under the usual umask; this runs at Open and
// Close, and a process that wants the files private while it runs too sets
// its umask to 077 (the daemon does). A failure is logged, not returned: the
// store works, and the folder it lives in is private anyway.
func (s *Store) restrictModes() {
	if err := restrictModes(s.dir); err != nil {
		s.logger.Warn("storage: cannot make the store's files private", "dir", s.dir, "err", err)
	}
}

func restrictModes(dir string) error {
	var errs []error
	if fi, err := os.Stat(dir); err != nil {
		return err
	} else if fi.Mode().Perm()&0o077 != 0 {
		errs = append(errs, os.Chmod(dir, fi.Mode().Perm()&0o700))
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, e := range entries {
		if !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed meanwhile (a compaction)
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if fi.Mode().Perm()&0o077 != 0 {
			err := os.Chmod(filepath.Join(dir, e.Name()), fi.Mode().Perm()&0o600)
			if !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
