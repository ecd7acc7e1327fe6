package netlab_test

import (
	"context"
	"fmt"
	"net/netip"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/internal/netlab"
)

// The echo servers' ports on the public hosts.
const (
	udpPort = 7000
	tcpPort = 7001
)

func TestLab(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var rootLinks []string // before the lab, if ip is here (else New skips)
	if _, err := exec.LookPath("ip"); err == nil {
		rootLinks = links(t, "")
	}
	lab := netlab.New(t)
	helper := lab.PublicHost("helper")
	relay := lab.PublicHost("relay")
	alice := lab.NATHost("alice", netlab.EndpointIndependent)
	carol := lab.NATHost("carol", netlab.Symmetric)
	for _, h := range []*netlab.Host{helper, relay} {
		startProbe(t, ctx, h, "udp-echo", fmt.Sprintf(":%d", udpPort))
		startProbe(t, ctx, h, "tcp-echo", fmt.Sprintf(":%d", tcpPort))
	}
	natted := []*netlab.Host{alice, carol}

	t.Run("AddressPlan", func(t *testing.T) {
		for _, tc := range []struct {
			host         *netlab.Host
			ip, publicIP string
			nat          netlab.NATType
			router       bool
		}{
			{helper, "198.18.0.10", "198.18.0.10", netlab.NoNAT, false},
			{relay, "198.18.0.11", "198.18.0.11", netlab.NoNAT, false},
			{alice, "198.19.1.2", "198.18.0.100", netlab.EndpointIndependent, true},
			{carol, "198.19.2.2", "198.18.0.101", netlab.Symmetric, true},
		} {
			h := tc.host
			if h.IP().String() != tc.ip || h.PublicIP().String() != tc.publicIP || h.NAT() != tc.nat ||
				(h.RouterNamespace() != "") != tc.router || h.Namespace() != lab.Prefix()+h.Name() {
				t.Errorf("%s: IP %s, public IP %s, %v, namespace %q, router's %q", h.Name(), h.IP(), h.PublicIP(), h.NAT(), h.Namespace(), h.RouterNamespace())
			}
		}
	})

	t.Run("NothingOutsideTheLabRange", func(t *testing.T) {
		for _, name := range links(t, "") {
			if !slices.Contains(rootLinks, name) && labLink.MatchString(name) {
				t.Errorf("root namespace has a new interface %q", name)
			}
		}
		for _, ns := range lab.Namespaces() {
			if !strings.HasPrefix(ns, lab.Prefix()) || !strings.HasPrefix(ns, "bclab-") {
				t.Errorf("namespace %q does not start with %q", ns, lab.Prefix())
			}
			checkAddresses(t, ns)
			checkRoutes(t, ns)
		}
	})

	t.Run("PublicIPIsSeen", func(t *testing.T) {
		for _, from := range []*netlab.Host{helper, alice, carol} {
			for _, dial := range []struct {
				role string
				port int
			}{{"udp-dial", udpPort}, {"tcp-dial", tcpPort}} {
				t.Run(from.Name()+"/"+dial.role, func(t *testing.T) {
					seen := seenAddr(t, runProbe(t, ctx, from, dial.role, at(relay.IP(), dial.port)))
					if seen.Addr() != from.PublicIP() {
						t.Errorf("relay saw %s, want %s's public IP %s (its own is %s)", seen, from.Name(), from.PublicIP(), from.IP())
					}
				})
			}
		}
	})

	t.Run("Mapping", func(t *testing.T) {
		for _, tc := range []struct {
			host     *netlab.Host
			samePort bool
		}{
			{alice, true},  // endpoint-independent
			{carol, false}, // symmetric (one time in ~64,000 both draws are equal)
		} {
			t.Run(tc.host.NAT().String(), func(t *testing.T) {
				const local = 40000
				client := startProbe(t, ctx, tc.host, "udp-client", fmt.Sprintf(":%d", local))
				var ports []uint16
				for _, server := range []*netlab.Host{helper, relay} {
					seen := seenAddr(t, client.ask(ctx, at(server.IP(), udpPort)))
					if seen.Addr() != tc.host.PublicIP() {
						t.Errorf("%s saw %s, want %s", server.Name(), seen, tc.host.PublicIP())
					}
					ports = append(ports, seen.Port())
				}
				if same := ports[0] == ports[1]; same != tc.samePort {
					t.Errorf("local port %d went out as %d to helper and %d to relay; same port wanted: %v", local, ports[0], ports[1], tc.samePort)
				}
				t.Logf("local port %d went out as %d to helper and %d to relay", local, ports[0], ports[1])
			})
		}
	})

	t.Run("UnsolicitedInboundStopsAtRouter", func(t *testing.T) {
		for _, h := range natted {
			for _, tc := range []struct{ server, dial string }{
				{"udp-echo", "udp-dial"},
				{"tcp-echo", "tcp-dial"},
			} {
				t.Run(h.Name()+"/"+tc.dial, func(t *testing.T) {
					const port = 7100 // the host listens there; its router maps nothing to it
					server := startProbe(t, ctx, h, tc.server, fmt.Sprintf(":%d", port))
					// The router drops it without an answer (as home
					// routers do), and does not forward it to the host.
					if got := runProbe(t, ctx, helper, tc.dial, at(h.PublicIP(), port)); got != "timeout" {
						t.Errorf("helper to %s's public IP: %q, want timeout (dropped)", h.Name(), got)
					}
					if got := server.stop(); len(got) > 0 {
						t.Errorf("%s received unsolicited traffic: %q", h.Name(), got)
					}
				})
			}
		}
	})

	t.Run("UnsolicitedInboundToLANIsDropped", func(t *testing.T) {
		// An internet neighbour that routes the LAN through the router:
		// the router's forward filter must drop what it sends.
		for _, h := range natted {
			lan := netip.PrefixFrom(h.IP(), 24).Masked()
			ip(t, "-n", helper.Namespace(), "route", "add", lan.String(), "via", h.PublicIP().String())
			t.Cleanup(func() { ip(t, "-n", helper.Namespace(), "route", "del", lan.String()) })
			for _, tc := range []struct{ server, dial string }{
				{"udp-echo", "udp-dial"},
				{"tcp-echo", "tcp-dial"},
			} {
				t.Run(h.Name()+"/"+tc.dial, func(t *testing.T) {
					const port = 7200
					server := startProbe(t, ctx, h, tc.server, fmt.Sprintf(":%d", port))
					// Dropped means no answer at all: only a deadline can
					// tell. Forwarded, the answer would be back in well
					// under a millisecond.
					if got := runProbeWaiting(t, ctx, helper, tc.dial, at(h.IP(), port), 300*time.Millisecond); got != "timeout" {
						t.Errorf("helper to %s's LAN address via its router: %q, want timeout", h.Name(), got)
					}
					if got := server.stop(); len(got) > 0 {
						t.Errorf("%s received unsolicited traffic: %q", h.Name(), got)
					}
				})
			}
		}
	})

	t.Run("ChangePublicIP", func(t *testing.T) {
		for i, h := range natted {
			t.Run(h.Name(), func(t *testing.T) {
				// One socket throughout: its mapping to the old address
				// must go with that address.
				client := startProbe(t, ctx, h, "udp-client", fmt.Sprintf(":%d", 40100+i))
				before := h.PublicIP()
				if seen := seenAddr(t, client.ask(ctx, at(helper.IP(), udpPort))); seen.Addr() != before {
					t.Fatalf("before: helper saw %s, want %s", seen, before)
				}
				after := lab.ChangePublicIP(t, h)
				if after == before || !netlab.Internet.Contains(after) || h.PublicIP() != after {
					t.Fatalf("ChangePublicIP: %s to %s, PublicIP %s", before, after, h.PublicIP())
				}
				if seen := seenAddr(t, client.ask(ctx, at(helper.IP(), udpPort))); seen.Addr() != after {
					t.Errorf("after, same UDP socket: helper saw %s, want %s", seen, after)
				}
				if seen := seenAddr(t, runProbe(t, ctx, h, "tcp-dial", at(helper.IP(), tcpPort))); seen.Addr() != after {
					t.Errorf("after, TCP: helper saw %s, want %s", seen, after)
				}
			})
		}
	})
}

// labLink matches the names the lab gives interfaces: one of them in the
// root namespace would be a lab's escape.
var labLink = regexp.MustCompile(`^(br0|wan|lan|probe[01]|p[0-9]+)$`)

func at(a netip.Addr, port int) string {
	return netip.AddrPortFrom(a, uint16(port)).String()
}

// seenAddr reads a probe's "seen ADDR:PORT".
func seenAddr(t *testing.T, line string) netip.AddrPort {
	t.Helper()
	s, ok := strings.CutPrefix(line, "seen ")
	if !ok {
		t.Fatalf("probe: %q, want seen ADDR:PORT", line)
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil {
		t.Fatalf("probe: %q: %v", line, err)
	}
	return ap
}
