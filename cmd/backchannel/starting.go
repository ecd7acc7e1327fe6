package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// startingFileName is the file a daemon keeps in its home while it starts
// (store opened, network started, rooms rejoined, until its API serves):
// its pid, so that a command run meanwhile says that the daemon is
// starting rather than that none runs.
const startingFileName = "daemon.starting"

// errDaemonStarting is what a command gets while the home's daemon starts.
var errDaemonStarting = errors.New("the daemon is starting; try again in a moment")

// markStarting writes the home's starting file with this process's pid.
// done removes it if it is still ours; the daemon calls it once its API
// serves, and again (harmlessly) on its way out.
func markStarting(home string) (done func(), err error) {
	path := filepath.Join(home, startingFileName)
	pid := strconv.Itoa(os.Getpid())
	if err := os.WriteFile(path, []byte(pid+"\n"), 0o600); err != nil {
		return nil, err
	}
	return func() {
		if b, err := os.ReadFile(path); err == nil && strings.TrimSpace(string(b)) == pid {
			os.Remove(path)
		}
	}, nil
}

// startingPID returns the pid of a daemon starting for home: the starting
// file's, if that process still runs (one killed while starting leaves the
// file behind).
func startingPID(home string) (int, bool) {
	b, err := os.ReadFile(filepath.Join(home, startingFileName))
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 0 || !processAlive(pid) {
		return 0, false
	}
	return pid, true
}

// alreadyStarting is the error of a second daemon for a home whose daemon
// is starting.
func alreadyStarting(home string, pid int) error {
	return fmt.Errorf("a daemon is already starting for home %s (process %d)", home, pid)
}
