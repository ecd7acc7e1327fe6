package web_test

import (
	"io/fs"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/web"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		// Process-wide goroutines that libp2p and its dependencies start once.
		goleak.IgnoreAnyFunction("github.com/ipfs/go-log/v2.(*ZapEventLogger).Warn"),
		goleak.IgnoreTopFunction("github.com/libp2p/go-libp2p/p2p/transport/quicreuse.(*reuse).gc"),
		goleak.IgnoreTopFunction("go.opencensus.io/stats/view.(*worker).start"),
		goleak.IgnoreAnyFunction("github.com/libp2p/go-flow-metrics.(*sweeper).run"),
		goleak.IgnoreAnyFunction("github.com/dgraph-io/ristretto/v2/z.(*AllocatorPool).freeupAllocators"),
	)
}

// TestAssets checks what the binary embeds: the page with its CSRF
// placeholder, and no reference to anything outside the daemon.
func TestAssets(t *testing.T) {
	ui := web.FS()
	page, err := fs.ReadFile(ui, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(page), `content="{{CSRF}}"`) {
		t.Error("index.html lacks the CSRF placeholder")
	}
	n := 0
	err = fs.WalkDir(ui, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		n++
		b, err := fs.ReadFile(ui, path)
		if err != nil {
			return err
		}
		// The SVG namespace is a name, not something fetched.
		text := strings.ReplaceAll(string(b), `xmlns="http://www.w3.org/2000/svg"`, "")
		for _, bad := range []string{"http://", "https://", "//cdn", "fonts.googleapis"} {
			if strings.Contains(text, bad) {
				t.Errorf("%s refers to %q: the UI must load nothing from outside", path, bad)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("%d files embedded", n)
	}
}
