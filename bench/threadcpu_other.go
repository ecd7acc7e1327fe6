//go:build !linux

package bench

import "time"

// threadCPU: only Linux tells a thread's CPU time (RUSAGE_THREAD).
func threadCPU() (time.Duration, bool) { return 0, false }
