//go:build linux

package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
)

// TestDaemonStopsWithGoRun: a daemon whose parent is the go tool (`go run
// ./cmd/backchannel daemon`) stops when that parent dies, as the README
// promises for stopping it. The parent here is a shell run from a file
// named "go" (the kernel names a process after the file it runs); it
// starts the test binary as the daemon and is then killed with SIGKILL,
// so it passes nothing on: the daemon must shut down by itself.
func TestDaemonStopsWithGoRun(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	goTool := filepath.Join(dir, "go")
	if err := os.Symlink(sh, goTool); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	logPath := filepath.Join(dir, "daemon.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()

	parent := exec.Command(goTool)
	parent.Args = []string{"sh", "-c", `"$0" "$@" & echo $!; wait`,
		os.Args[0], "--home", home, "daemon", "--api", "127.0.0.1:0", "--stamp-difficulty", "0"}
	parent.Env = append(os.Environ(), envRunMain+"=1")
	parent.Stderr = logFile
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = parent.Process.Kill(); _ = parent.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil {
		t.Fatalf("daemon pid %q: %v", line, err)
	}
	defer syscall.Kill(pid, syscall.SIGKILL) // if the test fails

	log := func() string { b, _ := os.ReadFile(logPath); return string(b) }
	deadline := time.Now().Add(labWait)
	for {
		if _, err := os.Stat(filepath.Join(home, api.APIFileName)); err == nil {
			if _, _, code := cli(t, home, "status"); code == 0 {
				break
			}
		}
		if time.Now().After(deadline) || !processAlive(pid) {
			t.Fatalf("the daemon did not start: %s", log())
		}
		time.Sleep(50 * time.Millisecond)
	}

	if err := parent.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = parent.Wait()
	deadline = time.Now().Add(labWait)
	for running(pid) {
		if time.Now().After(deadline) {
			t.Fatalf("the daemon still runs after its go parent died: %s", log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if !strings.Contains(log(), "shutting down") {
		t.Errorf("the daemon did not shut down cleanly: %s", log())
	}
	if _, err := os.Stat(filepath.Join(home, api.APIFileName)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("api file after shutdown: %v", err)
	}
}

// running reports whether process pid runs: alive and not a zombie that
// whoever adopted it has yet to reap.
func running(pid int) bool {
	if !processAlive(pid) {
		return false
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command's closing parenthesis.
	i := strings.LastIndexByte(string(b), ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
