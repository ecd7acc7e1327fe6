//go:build unix

package storage

import (
	"errors"
	"os"
	"syscall"
)

// lockDir takes the lock Badger takes on a store's folder (flock, exclusive,
// on the folder itself), ErrLocked if a process has the store open.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, ErrLocked
	}
	return func() { f.Close() }, nil
}

// InUse reports whether a process has the store in dir open: Badger's
// folder lock is held. A folder that is missing or cannot be read is not
// in use.
func InUse(dir string) bool {
	unlock, err := lockDir(dir)
	if err != nil {
		return errors.Is(err, ErrLocked)
	}
	unlock()
	return false
}
