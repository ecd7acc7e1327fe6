//go:build linux

package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// stopWithGoRun makes a daemon started by `go run` stop with it: the go
// tool does not pass SIGTERM on to the program it runs, so stopping it
// would leave the daemon running. When the parent process is the go tool,
// the daemon asks the kernel for SIGTERM when its parent dies, and sends
// itself SIGTERM if the parent is already gone (it died before the ask).
// Call it once the daemon handles SIGTERM.
func stopWithGoRun() {
	ppid := os.Getppid()
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", ppid))
	if err != nil || strings.TrimSpace(string(comm)) != "go" {
		return
	}
	if err := unix.Prctl(unix.PR_SET_PDEATHSIG, uintptr(unix.SIGTERM), 0, 0, 0); err != nil {
		return
	}
	if os.Getppid() != ppid {
		_ = syscall.Kill(os.Getpid(), syscall.SIGTERM)
	}
}
