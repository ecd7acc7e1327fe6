package bench

import (
	"syscall"
	"time"
)

// threadCPU is the CPU time (user and system) the calling OS thread has
// used; the caller locks its goroutine to the thread. ok is false where the
// system does not say.
func threadCPU() (time.Duration, bool) {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
