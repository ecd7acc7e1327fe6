//go:build unix

package client

import (
	"errors"
	"syscall"
)

// alive reports whether process pid may still run: signal 0 checks without
// sending anything. EPERM means it exists under another user.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
