package netlab

import (
	"context"
	"net/netip"
	"os/exec"
)

// Host is a namespace in the lab where a test runs programs: on the
// internet (a public host) or behind its own NAT router.
type Host struct {
	lab    *Lab
	name   string
	ns     string
	ip     netip.Addr
	router *router // nil for a public host
}

// router is a NATed host's home router: a namespace between its LAN and
// the internet.
type router struct {
	ns  string
	nat NATType
	lan int        // the LAN is 198.19.lan.0/24
	wan netip.Addr // on the internet; guarded by the lab's mu
}

// Name is the name the host was given.
func (h *Host) Name() string { return h.name }

// Namespace is the name of the host's network namespace.
func (h *Host) Namespace() string { return h.ns }

// IP is the host's own address: on the internet for a public host, on its
// LAN for a NATed one.
func (h *Host) IP() netip.Addr { return h.ip }

// PublicIP is where the internet sees the host: its IP for a public host,
// its router's current WAN address for a NATed one.
func (h *Host) PublicIP() netip.Addr {
	if h.router == nil {
		return h.ip
	}
	h.lab.mu.Lock()
	defer h.lab.mu.Unlock()
	return h.router.wan
}

// NAT is the kind of the host's NAT, NoNAT for a public host.
func (h *Host) NAT() NATType {
	if h.router == nil {
		return NoNAT
	}
	return h.router.nat
}

// RouterNamespace is the namespace of a NATed host's router, "" for a
// public host.
func (h *Host) RouterNamespace() string {
	if h.router == nil {
		return ""
	}
	return h.router.ns
}

// Command returns a command that runs program name inside the host's
// namespace (through ip netns exec, which becomes the program: cancelling
// ctx kills the program itself). The program is killed when the test
// process dies, and by the lab's Cleanup if it still runs then.
func (h *Host) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.ns, name}, args...)...)
	dieWithParent(cmd)
	h.lab.mu.Lock()
	h.lab.commands = append(h.lab.commands, cmd)
	h.lab.mu.Unlock()
	return cmd
}
