package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api"
)

// loginLink matches a one-time login link to a web UI on loopback.
var loginLink = regexp.MustCompile(`http://127\.0\.0\.1:\d+` + api.LoginPath + `\?code=[0-9a-f]{32}`)

// openUI opens a login link in a fresh "browser" (a client with a cookie
// jar) and returns the status of the link and the page it leads to.
func openUI(t *testing.T, link string) (int, string) {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	var first int
	c := &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if first == 0 {
			first = req.Response.StatusCode
		}
		return nil
	}}
	resp, err := c.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if first == 0 {
		first = resp.StatusCode
	}
	return first, string(b)
}

// isApp tells whether page is the web UI's app page (with its CSRF value),
// not the login screen.
func isApp(page string) bool {
	return regexp.MustCompile(`name="backchannel-csrf" content="[0-9a-f]{64}"`).MatchString(page)
}

// TestUICommand: the daemon logs a login link at start; `backchannel ui`
// prints more, and --open hands one to the browser. Each works once.
func TestUICommand(t *testing.T) {
	home := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--home", home, "daemon", "--log-level", "info"}, &syncBuffer{}, &stderr)
	}()
	var started string
	eventually(t, "the daemon logs a login link", func() bool {
		select {
		case code := <-done:
			t.Fatalf("daemon exited with %d: %s", code, stderr.String())
		default:
		}
		started = loginLink.FindString(stderr.String())
		return started != ""
	})

	printed := strings.TrimSpace(ok(t, home, "ui"))
	if !loginLink.MatchString(printed) || printed == started {
		t.Fatalf("ui printed %q", printed)
	}
	link := decodeJSON[api.LoginLink](t, ok(t, home, "ui", "--json"))
	var opened string
	orig := openBrowser
	openBrowser = func(_ context.Context, url string) error { opened = url; return nil }
	defer func() { openBrowser = orig }()
	withOpen := strings.TrimSpace(ok(t, home, "ui", "--open"))
	if opened != withOpen || !loginLink.MatchString(opened) {
		t.Errorf("ui --open printed %q and opened %q", withOpen, opened)
	}

	for _, l := range []string{started, printed, link.URL, opened} {
		status, page := openUI(t, l)
		if status != http.StatusSeeOther || !isApp(page) {
			t.Errorf("%s: %d, page %.200s", l, status, page)
		}
		status, page = openUI(t, l)
		if status != http.StatusUnauthorized || isApp(page) || !strings.Contains(page, "used already") {
			t.Errorf("%s used again: %d, page %.200s", l, status, page)
		}
	}
	// Without a login, the UI's address gives the login screen only.
	addr := loginLink.FindString(printed)
	addr = addr[:strings.Index(addr, api.LoginPath)]
	status, page := openUI(t, addr+"/")
	if status != 200 || isApp(page) || !strings.Contains(page, `name="token"`) {
		t.Errorf("GET / without a login: %d %.200s", status, page)
	}

	cancel()
	if code := <-done; code != 0 {
		t.Errorf("daemon exit %d: %s", code, stderr.String())
	}
	if _, errs, code := cli(t, home, "ui"); code == 0 || !strings.Contains(errs, "no daemon running") {
		t.Errorf("ui without a daemon: exit %d, %q", code, errs)
	}
}
