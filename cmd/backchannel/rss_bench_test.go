package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api/client"
)

// envRunMain makes the test binary run the command line (main) with its
// arguments instead of the tests, so that a benchmark can start the real
// daemon as a process of its own.
const envRunMain = "BACKCHANNEL_TEST_RUN_MAIN"

// idleFor is how long the daemon idles before its memory is read: long
// enough for start-up garbage to be collected and timers to settle.
const idleFor = 2 * time.Second

// BenchmarkIdleDaemonRSS starts `backchannel daemon` in a fresh home as a
// separate process, lets it idle, and reports its resident memory (VmRSS)
// in MiB as rss-MB. The target is under 60. Built with -race the figure is
// several times larger: benchmark without it.
func BenchmarkIdleDaemonRSS(b *testing.B) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		b.Skip("no /proc: ", err)
	}
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	var sum float64
	runs := 0
	for b.Loop() {
		sum += idleDaemonRSS(b, exe)
		runs++
	}
	b.ReportMetric(sum/float64(runs), "rss-MB")
}

// idleDaemonRSS runs one daemon from exe until it answers, idles, and
// stops; it returns the daemon's VmRSS in MiB just before the stop.
func idleDaemonRSS(b *testing.B, exe string) float64 {
	b.Helper()
	home := b.TempDir()
	var stderr syncBuffer
	cmd := exec.Command(exe, "--home", home, "daemon", "--api", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(os.Environ(), envRunMain+"=1")
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	defer func() {
		if !stopped {
			cmd.Process.Kill()
			<-exited
		}
	}()

	deadline := time.Now().Add(waitLimit)
	for !healthy(home) {
		if time.Now().After(deadline) {
			b.Fatalf("the daemon did not answer /v1/health in %v: %s", waitLimit, stderr.String())
		}
		select {
		case err := <-exited:
			stopped = true
			b.Fatalf("the daemon exited (%v): %s", err, stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
	}

	select {
	case err := <-exited:
		stopped = true
		b.Fatalf("the daemon exited while idle (%v): %s", err, stderr.String())
	case <-time.After(idleFor):
	}
	rss, err := vmRSS(cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	select {
	case err := <-exited:
		stopped = true
		if err != nil {
			b.Fatalf("the daemon's exit after SIGTERM: %v: %s", err, stderr.String())
		}
	case <-time.After(waitLimit):
		b.Fatalf("the daemon did not stop within %v of SIGTERM: %s", waitLimit, stderr.String())
	}
	return rss
}

// healthy reports whether home's daemon answers GET /v1/health.
func healthy(home string) bool {
	c, err := client.FromHome(home)
	if err != nil {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	return c.Health(ctx) == nil
}

// vmRSS reads the resident set size of process pid, in MiB, from
// /proc/PID/status.
func vmRSS(pid int) (float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// VmRSS:	   41236 kB
		rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:")
		if !ok {
			continue
		}
		kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/%d/status: VmRSS %q: %w", pid, rest, err)
		}
		return kb / 1024, nil
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, errors.New("no VmRSS in /proc/" + strconv.Itoa(pid) + "/status")
}
