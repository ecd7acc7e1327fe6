//go:build !unix

package bench

import (
	"os"
	"path/filepath"
	"time"
)

// cpuTime is the CPU time this process has used: not measured here (no
// getrusage), so CPU figures read zero; without /proc/stat the bench gives
// no verdicts here anyway.
func cpuTime() time.Duration { return 0 }

// dirSize adds up the apparent size of the files under dir.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			info, err := d.Info()
			if err != nil {
				return err
			}
			total += info.Size()
		}
		return nil
	})
	return total, err
}
