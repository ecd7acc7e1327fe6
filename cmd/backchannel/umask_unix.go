//go:build unix

package main

import "syscall"

// privateFiles makes the files this process creates from now on readable
// by its user only: the store's files (Badger makes some 0666 less the
// umask) and everything else in HOME.
func privateFiles() { syscall.Umask(0o077) }
