//go:build !unix

package bench

import (
	"io/fs"
	"time"
)

// cpuTime is the CPU time this process has used: not measured here (no
// getrusage), so CPU figures read zero; without /proc/stat the bench gives
// no verdicts here anyway.
func cpuTime() time.Duration { return 0 }

// allocated is the disk space a file takes: its apparent size here.
func allocated(info fs.FileInfo) int64 { return info.Size() }
