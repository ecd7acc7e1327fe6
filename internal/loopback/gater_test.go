package loopback

import (
	"net/netip"
	"testing"

	ma "github.com/multiformats/go-multiaddr"
)

func TestGater(t *testing.T) {
	// Addresses outside the allowed range are from the lab range too (a
	// narrower prefix is allowed): the gater is a pure check, but no test
	// names an address it may not use.
	lab := netip.MustParsePrefix("198.18.0.0/16")
	tests := []struct {
		addr  string
		allow []netip.Prefix
		want  bool
	}{
		{"/ip4/127.0.0.1/tcp/1", nil, true},
		{"/ip4/127.9.9.9/udp/1/quic-v1", nil, true},
		{"/ip6/::1/tcp/1", nil, true},
		{"/ip4/0.0.0.0/tcp/1", nil, false},
		{"/ip4/198.18.0.10/tcp/1", nil, false},
		{"/ip4/198.18.0.10/tcp/1", []netip.Prefix{lab}, true},
		{"/ip4/198.18.255.255/tcp/1", []netip.Prefix{lab}, true},
		{"/ip4/198.19.0.1/tcp/1", []netip.Prefix{lab}, false},
		{"/ip6/::ffff:198.18.0.1/tcp/1", []netip.Prefix{lab}, true},
		{"/ip6/::ffff:198.19.0.1/tcp/1", []netip.Prefix{lab}, false},
		{"/dns4/localhost/tcp/1", []netip.Prefix{lab}, false},
		{"/ip4/198.18.0.10/tcp/1/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo/p2p-circuit", []netip.Prefix{lab}, true},
		{"/ip4/198.19.0.10/tcp/1/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo/p2p-circuit", []netip.Prefix{lab}, false},
	}
	for _, tc := range tests {
		g := &Gater{Allow: tc.allow}
		a := ma.StringCast(tc.addr)
		if got := g.InterceptAddrDial("", a); got != tc.want {
			t.Errorf("%s allow %v: dial allowed = %v, want %v", tc.addr, tc.allow, got, tc.want)
		}
		wantRefused := int64(0)
		if !tc.want {
			wantRefused = 1
		}
		if g.Refused() != wantRefused {
			t.Errorf("%s: Refused() = %d, want %d", tc.addr, g.Refused(), wantRefused)
		}
	}
}
