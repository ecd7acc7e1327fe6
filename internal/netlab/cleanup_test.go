package netlab_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/internal/netlab"
)

// namespaces lists the machine's named network namespaces.
func namespaces(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Fatalf("ip netns list: %v", err)
	}
	var names []string
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0])
		}
	}
	return names
}

func TestCleanupRemovesTheLab(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var prefix string
	var left *exec.Cmd // a program the test leaves running: the lab ends it
	t.Run("lab", func(t *testing.T) {
		lab := netlab.New(t)
		prefix = lab.Prefix()
		alice := lab.NATHost("alice", netlab.EndpointIndependent)
		// Not bound to ctx: only the lab may end it.
		cmd := probeCommand(t, context.Background(), alice, "udp-echo", ":7000")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		left = cmd
	})
	if prefix == "" {
		t.Skip("no lab was built")
	}
	for _, ns := range namespaces(t) {
		if strings.HasPrefix(ns, prefix) {
			t.Errorf("namespace %s outlived its lab", ns)
		}
	}
	if left == nil {
		return
	}
	waited := make(chan error, 1)
	go func() { waited <- left.Wait() }()
	select {
	case err := <-waited:
		if err == nil || !strings.Contains(err.Error(), "killed") {
			t.Errorf("the program left running in the lab ended with %v, want killed", err)
		}
	case <-ctx.Done():
		t.Errorf("the program left running in the lab outlived it")
		left.Process.Kill()
		<-waited
	}
}

func TestNewRemovesLeftoversOfGoneProcesses(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	netlab.New(t) // skips or fails here if no lab can be built

	// A process that was, and is no more.
	exited := asProbe(exec.Command(testBinary(t), "-test.run=^$"), "", "")
	if err := exited.Run(); err != nil {
		t.Fatal(err)
	}
	gone := fmt.Sprintf("bclab-%d-1-leftover", exited.Process.Pid)
	live := fmt.Sprintf("bclab-%d-999-leftover", os.Getpid()) // another lab of a live process
	for _, ns := range []string{gone, live} {
		ip(t, "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	// A program still running in the gone process's lab. Not bound to
	// ctx: only New may end it (or this test's Cleanup, through stop).
	orphanCtx, stopOrphan := context.WithCancel(context.Background())
	orphan := launch(t, ctx, stopOrphan, probeIn(t, orphanCtx, gone, "udp-echo", ":7000"), "udp-echo in "+gone)

	netlab.New(t)

	names := namespaces(t)
	if slices.Contains(names, gone) {
		t.Errorf("%s was left by a gone process, and is still there", gone)
	}
	if !slices.Contains(names, live) {
		t.Errorf("%s belongs to a live process, and was removed", live)
	}
	select {
	case <-orphan.done:
		if orphan.err == nil || !strings.Contains(orphan.err.Error(), "killed") {
			t.Errorf("the program in %s ended with %v, want killed", gone, orphan.err)
		}
	case <-ctx.Done():
		t.Errorf("the program in %s still runs", gone)
	}
}
