package netlab_test

import (
	"encoding/json"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/internal/netlab"
)

// What the tests see of namespaces, through ip.

// ip runs ip with args.
func ip(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// ipJSON runs ip -j with args in namespace ns ("" for the root one) and
// decodes its answer into v.
func ipJSON(t *testing.T, ns string, v any, args ...string) {
	t.Helper()
	if ns != "" {
		args = append([]string{"-n", ns}, args...)
	}
	out, err := exec.Command("ip", append([]string{"-j"}, args...)...).Output()
	if err != nil {
		t.Fatalf("ip %s: %v", strings.Join(args, " "), err)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// links lists the interfaces of namespace ns ("" for the root one).
func links(t *testing.T, ns string) []string {
	t.Helper()
	var ls []struct {
		Name string `json:"ifname"`
	}
	ipJSON(t, ns, &ls, "link", "show")
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
	}
	return names
}

// checkAddresses fails t if namespace ns holds an address outside the lab
// range, loopback's 127.0.0.1 aside, or any IPv6 address.
func checkAddresses(t *testing.T, ns string) {
	t.Helper()
	var ifs []struct {
		Name  string `json:"ifname"`
		Addrs []struct {
			Family string `json:"family"`
			Local  string `json:"local"`
		} `json:"addr_info"`
	}
	ipJSON(t, ns, &ifs, "addr", "show")
	for _, i := range ifs {
		for _, a := range i.Addrs {
			addr, err := netip.ParseAddr(a.Local)
			switch {
			case err != nil:
				t.Errorf("%s %s: %q: %v", ns, i.Name, a.Local, err)
			case i.Name == "lo" && addr == netip.MustParseAddr("127.0.0.1"):
			case a.Family != "inet" || !netlab.Range.Contains(addr):
				t.Errorf("%s %s has %s", ns, i.Name, addr)
			}
		}
	}
}

// checkRoutes fails t if namespace ns routes anywhere but through the lab.
func checkRoutes(t *testing.T, ns string) {
	t.Helper()
	var routes []struct {
		Dst     string `json:"dst"`
		Gateway string `json:"gateway"`
	}
	ipJSON(t, ns, &routes, "route", "show")
	for _, r := range routes {
		if r.Gateway != "" {
			if gw, err := netip.ParseAddr(r.Gateway); err != nil || !netlab.Range.Contains(gw) {
				t.Errorf("%s: route to %s via %s", ns, r.Dst, r.Gateway)
			}
			continue
		}
		if p, err := netip.ParsePrefix(r.Dst); err != nil || !netlab.Range.Contains(p.Addr()) || p.Bits() < netlab.Range.Bits() {
			t.Errorf("%s: direct route to %s", ns, r.Dst)
		}
	}
}
