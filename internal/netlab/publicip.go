package netlab

import (
	"errors"
	"fmt"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"
)

// flushTimeout bounds the wait for the kernel to drop a router's mappings
// to an address it lost.
const flushTimeout = 5 * time.Second

// ChangePublicIP gives the NAT router of h a new address on the internet,
// as an ISP does, and returns it. The old address goes, and every mapping
// to it with it: the kernel flushes masqueraded connections when their
// address is removed, and ChangePublicIP waits until the router's conntrack
// table holds none of h's to the old address. The host's connections
// through the router break; new ones leave from the new address.
//
// It reports failure through t, which may be a subtest of the lab's test
// (a test changes addresses in the middle of what it checks).
func (l *Lab) ChangePublicIP(t testing.TB, h *Host) netip.Addr {
	t.Helper()
	if h.router == nil {
		t.Fatalf("netlab: ChangePublicIP: %s is a public host, it has no router", h.name)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := h.router
	old := r.wan
	wan, err := l.alloc.wan()
	if err != nil {
		t.Fatal(err)
	}
	oldAddr, err := cidr(old)
	if err != nil {
		t.Fatal(err)
	}
	newAddr, err := cidr(wan)
	if err != nil {
		t.Fatal(err)
	}
	// Old first: removing a primary address would take a secondary with it.
	if err := ipIn(r.ns, "addr del "+oldAddr+" dev wan", "addr add "+newAddr+" dev wan"); err != nil {
		t.Fatal(err)
	}
	r.wan = wan
	switch err := waitMappingsGone(r.ns, h.ip, old); {
	case errors.Is(err, errNoConntrackTable):
		t.Logf("netlab: cannot check that %s's mappings to %s are gone: %v", h.name, old, err)
	case err != nil:
		t.Fatal(err)
	}
	return wan
}

// conntrackTable is where the kernel lists a namespace's connections, if it
// was built with CONFIG_NF_CONNTRACK_PROCFS.
const conntrackTable = "/proc/net/nf_conntrack"

var errNoConntrackTable = errors.New("no " + conntrackTable + " in this kernel")

// waitMappingsGone waits until router namespace ns has no connection of
// LAN host lan masqueraded to old. The kernel flushes them from a work
// queue after the address goes, so this polls, until flushTimeout.
func waitMappingsGone(ns string, lan, old netip.Addr) error {
	if _, err := os.Stat(conntrackTable); err != nil {
		return errNoConntrackTable
	}
	deadline := time.Now().Add(flushTimeout)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		table, err := run("", "ip", "netns", "exec", ns, "cat", conntrackTable)
		if err != nil {
			return err
		}
		stale := mappings(table, lan, old)
		if len(stale) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("netlab: %s still maps %s to %s after %v: %s", ns, lan, old, flushTimeout, strings.Join(stale, "; "))
		}
		<-tick.C
	}
}

// mappings returns the lines of conntrack table that masquerade LAN host
// lan to public address pub: the original direction leaves from lan, the
// reply comes back to pub.
//
//	ipv4 2 udp 17 29 src=198.19.1.2 dst=198.18.0.10 sport=40000 dport=7000 src=198.18.0.10 dst=198.18.0.100 sport=7000 dport=40000 ...
func mappings(table string, lan, pub netip.Addr) []string {
	var found []string
	for _, line := range strings.Split(table, "\n") {
		f := strings.Fields(line)
		var srcs, dsts []string
		for _, field := range f {
			if v, ok := strings.CutPrefix(field, "src="); ok {
				srcs = append(srcs, v)
			}
			if v, ok := strings.CutPrefix(field, "dst="); ok {
				dsts = append(dsts, v)
			}
		}
		if len(srcs) >= 2 && len(dsts) >= 2 && srcs[0] == lan.String() && dsts[1] == pub.String() {
			found = append(found, line)
		}
	}
	return found
}
