//go:build !unix

package storage

import "errors"

// lockDir cannot take Badger's lock here; ChangeKey is not available.
func lockDir(string) (func(), error) {
	return nil, errors.New("not supported on this system")
}

// InUse cannot tell here: false.
func InUse(string) bool { return false }
