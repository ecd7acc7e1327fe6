package netlab

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// basePrefix starts every lab namespace's name: bclab-<pid>-<lab>-<name>,
// pid being the process that made it.
const basePrefix = "bclab-"

// listNamespaces returns the names of the host's named network namespaces.
func listNamespaces() ([]string, error) {
	out, err := run("", "ip", "netns", "list")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			names = append(names, f[0]) // "NAME (id: N)"
		}
	}
	return names, nil
}

// creatorPID reads the PID of the process that made lab namespace ns; ok is
// false for a name that is not a lab's.
func creatorPID(ns string) (pid int, ok bool) {
	rest, found := strings.CutPrefix(ns, basePrefix)
	if !found {
		return 0, false
	}
	digits, _, found := strings.Cut(rest, "-")
	if !found {
		return 0, false
	}
	pid, err := strconv.Atoi(digits)
	return pid, err == nil && pid > 0
}

// removeLeftovers removes the namespaces of labs whose process is gone: a
// run killed before its Cleanup. Labs of live processes (another test
// binary running now, or this one) are left alone.
func removeLeftovers(t testing.TB) {
	t.Helper()
	names, err := listNamespaces()
	if err != nil {
		t.Logf("netlab: cannot list namespaces to remove leftovers: %v", err)
		return
	}
	for _, ns := range names {
		pid, ok := creatorPID(ns)
		if !ok || alive(pid) {
			continue
		}
		if err := removeNamespace(ns); err != nil {
			t.Logf("netlab: leftover %s: %v", ns, err)
			continue
		}
		t.Logf("netlab: removed %s, left by process %d, which is gone", ns, pid)
	}
}

// removeNamespace kills whatever still runs in namespace ns, then deletes
// it; its interfaces go with it, and the veth peers of those.
func removeNamespace(ns string) error {
	out, err := run("", "ip", "netns", "pids", ns)
	if err != nil {
		return err
	}
	for _, f := range strings.Fields(out) {
		pid, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("ip netns pids %s: unexpected %q", ns, f)
		}
		if err := kill(pid); err != nil {
			return fmt.Errorf("killing process %d in %s: %w", pid, ns, err)
		}
	}
	_, err = run("", "ip", "netns", "del", ns)
	return err
}
