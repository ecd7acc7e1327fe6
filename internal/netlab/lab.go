package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// Lab is one test's network: the internet namespace with its bridge, and
// the hosts and routers built on it. Its methods are safe to call
// concurrently; PublicHost and NATHost report failure through the Fatal of
// the test that made the lab, so call them from that test's goroutine (not
// from a subtest's).
type Lab struct {
	t      testing.TB
	prefix string // bclab-<pid>-<lab>-
	inet   string // the internet's namespace

	mu         sync.Mutex
	alloc      allocator
	ports      int             // the internet bridge's ports so far
	hosts      map[string]bool // host names taken
	namespaces []string        // in the order made; removed in reverse
	commands   []*exec.Cmd     // made by Host.Command: killed at removal
}

// labs numbers the labs of this process, so that two may live at once.
var labs atomic.Int64

// New builds an empty internet for t, after removing the leftovers of
// killed runs, and registers its removal with t.Cleanup. Where no lab can
// be built it skips t, or fails it if the environment variable CI is set.
func New(t testing.TB) *Lab {
	t.Helper()
	if why := whyUnavailable(); why != "" {
		unavailable(t, why)
	}
	removeLeftovers(t)
	l := &Lab{
		t:      t,
		prefix: fmt.Sprintf("%s%d-%d-", basePrefix, os.Getpid(), labs.Add(1)),
		hosts:  map[string]bool{},
	}
	l.inet = l.prefix + "inet"
	t.Cleanup(l.remove)
	// The first namespace, bridge, veth pair and NAT rules are where a
	// machine or container without the means fails: that is unavailability.
	if err := l.buildInternet(); err != nil {
		unavailable(t, err.Error())
	}
	return l
}

// buildInternet makes the internet's namespace and bridge, and checks that
// veth pairs and nftables NAT work here.
func (l *Lab) buildInternet() error {
	if err := l.addNamespace(l.inet); err != nil {
		return err
	}
	err := ipIn(l.inet,
		"link add br0 type bridge",
		"link set br0 up",
		"link add probe0 type veth peer name probe1",
		"link del probe0",
	)
	if err != nil {
		return err
	}
	for _, nat := range []NATType{EndpointIndependent, Symmetric} {
		if err := nftIn(l.inet, natRuleset(nat), true); err != nil {
			return fmt.Errorf("nftables cannot NAT here: %w", err)
		}
	}
	return nil
}

// Prefix is how the names of the lab's namespaces start.
func (l *Lab) Prefix() string { return l.prefix }

// Namespaces lists the lab's namespaces: the internet's, then the hosts'
// and routers' in the order they were made.
func (l *Lab) Namespaces() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.namespaces)
}

// addNamespace makes namespace ns with IPv6 off (no link-local addresses:
// the lab assigns only addresses in Range) and loopback up (programs inside
// listen on 127.0.0.1 for their local API).
func (l *Lab) addNamespace(ns string) error {
	if _, err := run("", "ip", "netns", "add", ns); err != nil {
		return err
	}
	l.namespaces = append(l.namespaces, ns) // from here on, removed at the end
	if _, err := os.Stat("/proc/sys/net/ipv6"); err == nil {
		err := sysctlIn(ns, "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1")
		if err != nil {
			return err
		}
	}
	return ipIn(ns, "link set lo up")
}

// remove deletes the lab's namespaces, newest first, killing what still
// runs in them. It is the lab's Cleanup.
func (l *Lab) remove() {
	l.mu.Lock()
	defer l.mu.Unlock()
	// A program started a moment ago may not be inside its namespace yet
	// (`ip netns exec` enters it, then runs the program, in one process):
	// `ip netns pids` would miss it. Kill what Host.Command started first;
	// one that has ended already gives an error, and is left alone.
	for _, cmd := range l.commands {
		if cmd.Process != nil {
			_ = cmd.Process.Kill()
		}
	}
	l.commands = nil
	for _, ns := range slices.Backward(l.namespaces) {
		if err := removeNamespace(ns); err != nil {
			l.t.Errorf("netlab: removing the lab: %v", err)
		}
	}
	l.namespaces = nil
}

// hostName is what a host may be called: short, lower case, no dashes (so
// that no host's namespace is another's router's, "<name>-router").
var hostName = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

// claim takes name for a new host and returns its namespace's name.
func (l *Lab) claim(name string) (string, error) {
	switch {
	case !hostName.MatchString(name):
		return "", fmt.Errorf("netlab: host name %q: want 1-16 of [a-z0-9], starting with a letter", name)
	case name == "inet":
		return "", fmt.Errorf("netlab: host name %q is the internet's", name)
	case l.hosts[name]:
		return "", fmt.Errorf("netlab: two hosts named %q", name)
	}
	l.hosts[name] = true
	return l.prefix + name, nil
}

// must fails the lab's test on err.
func (l *Lab) must(err error) {
	l.t.Helper()
	if err != nil {
		l.t.Fatal(err)
	}
}
