package web_test

import (
	"io/fs"
	"regexp"
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
	// The login screen, served to anyone: its message, and nothing of the
	// app (no script, no CSRF value, no file a session alone may load).
	login, err := fs.ReadFile(ui, "login.html")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(login), "{{MESSAGE}}") || !strings.Contains(string(login), `name="token"`) {
		t.Error("login.html lacks its message placeholder or the token field")
	}
	for _, bad := range []string{"<script", "CSRF", "csrf", "/js/"} {
		if strings.Contains(string(login), bad) {
			t.Errorf("login.html holds %q", bad)
		}
	}
	// Both pages name the UI's files by their versioned path, {{UI}}/...,
	// and only files that exist; the login screen only public ones.
	for page, text := range map[string]string{"index.html": string(page), "login.html": string(login)} {
		refs := regexp.MustCompile(`(?:href|src)="([^"#]*)"`).FindAllStringSubmatch(text, -1)
		if len(refs) < 2 {
			t.Errorf("%s refers to %d files", page, len(refs))
		}
		for _, m := range refs {
			if m[1] == "/login" && page == "login.html" {
				continue
			}
			p, ok := strings.CutPrefix(m[1], "{{UI}}/")
			if !ok {
				t.Errorf("%s refers to %s, not under {{UI}}/", page, m[1])
				continue
			}
			if page == "login.html" && !strings.HasPrefix(p, "public/") {
				t.Errorf("login.html loads %s, which needs a session", m[1])
			}
			if _, err := fs.Stat(ui, p); err != nil {
				t.Errorf("%s loads %s: %v", page, m[1], err)
			}
		}
	}
	// The files name each other relatively, within their version.
	err = fs.WalkDir(ui, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasSuffix(path, ".html") {
			return err
		}
		b, err := fs.ReadFile(ui, path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "/ui/") {
			t.Errorf("%s names a path under /ui/: a file refers to others relatively", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
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
