package netlab

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"testing"
)

// whyUnavailable says why no lab can be built here, or "" if one may be.
// It only looks; building the internet namespace is the real test.
func whyUnavailable() string {
	if runtime.GOOS != "linux" {
		return "network namespaces need Linux, this is " + runtime.GOOS
	}
	if os.Geteuid() != 0 {
		return "making network namespaces needs root"
	}
	for _, tool := range []struct{ name, pkg string }{
		{"ip", "iproute2"}, {"nft", "nftables"}, {"sysctl", "procps"},
	} {
		if _, err := exec.LookPath(tool.name); err != nil {
			return fmt.Sprintf("%s not found (install %s)", tool.name, tool.pkg)
		}
	}
	return ""
}

// unavailable skips the test because no lab can be built here, or fails it
// if CI is set: there, a skipped lab would hide that its tests never ran.
func unavailable(t testing.TB, why string) {
	t.Helper()
	msg := "netlab: cannot build a network lab here: " + why
	if os.Getenv("CI") != "" {
		t.Fatal(msg + " (CI is set: failing instead of skipping)")
	}
	t.Skip(msg)
}
