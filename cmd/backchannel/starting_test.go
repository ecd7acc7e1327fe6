package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDaemonStarting: while a daemon starts, commands say so instead of
// saying that no daemon runs, and a second daemon is refused; a starting
// file left by a dead process is ignored; a daemon marks itself starting
// until its API serves, then removes the mark.
func TestDaemonStarting(t *testing.T) {
	home := t.TempDir()
	writeStarting := func(pid int) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(home, startingFileName), []byte(strconv.Itoa(pid)+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	writeStarting(os.Getpid()) // a live process: this one
	_, errs, code := cli(t, home, "status")
	if want := "backchannel: the daemon is starting; try again in a moment\n"; code == 0 || errs != want {
		t.Errorf("status while starting: exit %d, stderr %q; want %q", code, errs, want)
	}
	_, errs, code = cli(t, home, "daemon", "--api", "127.0.0.1:0")
	if code == 0 || !strings.Contains(errs, "a daemon is already starting for home") {
		t.Errorf("second daemon: exit %d, stderr %q", code, errs)
	}

	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	writeStarting(dead.Process.Pid)
	_, errs, code = cli(t, home, "status")
	if code == 0 || !strings.Contains(errs, "no daemon running") {
		t.Errorf("status with a dead process's starting file: exit %d, stderr %q", code, errs)
	}

	os.Remove(filepath.Join(home, startingFileName))
	startDaemon(t, home, "--api", "127.0.0.1:0")
	if seen, _ := startingSeen.Load(home); seen != true {
		t.Errorf("the daemon did not mark itself starting before its API served")
	}
	if _, err := os.Stat(filepath.Join(home, startingFileName)); !os.IsNotExist(err) {
		t.Errorf("starting file once the API serves: %v", err)
	}
	if _, errs, code := cli(t, home, "status"); code != 0 {
		t.Errorf("status: exit %d, stderr %q", code, errs)
	}
}
