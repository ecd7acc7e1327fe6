package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
)

// loginScreen checks that body is the login screen and nothing of the app:
// no CSRF value, no script, no placeholder left.
func loginScreen(t *testing.T, what string, body []byte) {
	t.Helper()
	if !bytes.Contains(body, []byte(`<title>log in</title>`)) {
		t.Errorf("%s: not the login screen: %s", what, body)
	}
	for _, bad := range []string{"backchannel-csrf", "<script", "{{", "app.js"} {
		if bytes.Contains(body, []byte(bad)) {
			t.Errorf("%s: the login screen holds %q: %s", what, bad, body)
		}
	}
	if regexp.MustCompile(`[0-9a-f]{64}`).Match(body) {
		t.Errorf("%s: the login screen holds a secret-looking value: %s", what, body)
	}
}

// TestLoginScreen: without a login, / is the login screen and nothing else,
// whatever cookie comes along, and it sets no cookie.
func TestLoginScreen(t *testing.T) {
	s := apitest.StartServerWithUI(t, testUI)
	other := apitest.StartServerWithUI(t, testUI)
	otherCookie := login(t, other)
	otherCookie.Name = login(t, s).Name // as if another daemon run had served this port
	for _, tt := range []struct {
		name   string
		cookie *http.Cookie
	}{
		{"no cookie", nil},
		{"a stale cookie", &http.Cookie{Name: otherCookie.Name, Value: strings.Repeat("0", 64)}},
		{"another run's session", otherCookie},
	} {
		status, body, hdr := get(t, s, "/", tt.cookie)
		if status != 200 {
			t.Errorf("%s: GET /: %d", tt.name, status)
		}
		loginScreen(t, tt.name, body)
		if c := hdr.Values("Set-Cookie"); len(c) != 0 {
			t.Errorf("%s: GET / set cookies %v", tt.name, c)
		}
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: login screen CSP %q", tt.name, csp)
		}
	}
}

// TestLoginLink: a login link works once; a used, expired, wrong or
// missing code gets the login screen with a reason and no session.
func TestLoginLink(t *testing.T) {
	s := apitest.StartServerWithUI(t, testUI)
	var mu sync.Mutex
	now := time.Now()
	s.SetNow(func() time.Time { mu.Lock(); defer mu.Unlock(); return now })

	link, err := s.LoginURL(api.LoginLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link.URL, "http://"+s.Addr()+api.LoginPath+"?code=") || !link.Expires.Equal(now.Add(api.LoginLinkTTL)) {
		t.Errorf("link %+v", link)
	}
	code := link.URL[strings.Index(link.URL, "code=")+5:]
	if len(code) < 32 {
		t.Errorf("code %q: want at least 128 random bits", code)
	}
	resp, err := noRedirect.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("first use: %d, want 303", resp.StatusCode)
	}
	cookie := sessionCookie(t, s, resp)
	if status, _, _ := get(t, s, "/", cookie); status != 200 {
		t.Errorf("GET / with the new session: %d", status)
	}
	// Used once, the link is spent even while it has not expired.
	status, body, hdr := get(t, s, api.LoginPath+"?code="+code, nil)
	if status != http.StatusUnauthorized || hdr.Get("Set-Cookie") != "" {
		t.Errorf("the link used again at once: %d, cookie %q", status, hdr.Get("Set-Cookie"))
	}
	loginScreen(t, "the link used again at once", body)

	expired, err := s.LoginURL(api.LoginLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	fresh, err := s.LoginURL(2 * api.LoginLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(api.LoginLinkTTL)
	mu.Unlock()
	base := "http://" + s.Addr() + api.LoginPath
	for _, tt := range []struct{ name, url string }{
		{"used again", link.URL},
		{"expired", expired.URL},
		{"another code", base + "?code=" + strings.Repeat("0", len(code))},
		{"a prefix of a code", fresh.URL[:len(fresh.URL)-1]},
		{"empty code", base + "?code="},
		{"no code", base},
	} {
		resp, err := noRedirect.Get(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("%s: %d, want 401", tt.name, resp.StatusCode)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("%s: cookies set: %v", tt.name, resp.Cookies())
		}
		loginScreen(t, tt.name, body)
		if !bytes.Contains(body, []byte("used already, has expired")) {
			t.Errorf("%s: the login screen does not say why: %s", tt.name, body)
		}
	}
	// A HEAD (a link checker, a preview) neither logs in nor spends it.
	req, err := http.NewRequest("HEAD", fresh.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err = noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || len(resp.Cookies()) != 0 {
		t.Errorf("HEAD of a login link: %d, cookies %v", resp.StatusCode, resp.Cookies())
	}
	// A code with a longer life is still good, wrong tries or not.
	resp, err = noRedirect.Get(fresh.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("a fresh code: %d, want 303", resp.StatusCode)
	}
}

// TestLoginLinkBounds: at most 16 codes wait; the 17th drops the one that
// expires first. At most 32 sessions live; the 33rd login ends the oldest.
func TestLoginLinkBounds(t *testing.T) {
	s := apitest.StartServerWithUI(t, testUI)
	first, err := s.LoginURL(time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var rest []string
	for range 16 {
		l, err := s.LoginURL(time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		rest = append(rest, l.URL)
	}
	resp, err := noRedirect.Get(first.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the 17th code left the first good: %d", resp.StatusCode)
	}
	for _, u := range rest {
		resp, err := noRedirect.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther {
			t.Errorf("a later code refused: %d", resp.StatusCode)
		}
	}
	s = apitest.StartServerWithUI(t, testUI)
	oldest := login(t, s)
	for range 31 {
		login(t, s)
	}
	if status, body, _ := get(t, s, "/", oldest); status != 200 || bytes.Contains(body, []byte("log in")) {
		t.Errorf("a session ended before the 33rd login: %d %s", status, body)
	}
	login(t, s)
	status, body, _ := get(t, s, "/", oldest)
	if status != 200 {
		t.Fatalf("GET /: %d", status)
	}
	loginScreen(t, "the oldest session after the 33rd login", body)
}

// TestLoginWithToken: the login screen's form takes the bearer token;
// anything else, or a post from another origin, gets no session.
func TestLoginWithToken(t *testing.T) {
	s := apitest.StartServerWithUI(t, testUI)
	port := s.Addr()[strings.LastIndex(s.Addr(), ":")+1:]
	post := func(token, origin string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest("POST", "http://"+s.Addr()+api.LoginPath, strings.NewReader(url.Values{"token": {token}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	resp, _ := post(s.Token, "http://127.0.0.1:"+port)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("the token: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
	}
	cookie := sessionCookie(t, s, resp)
	if status, body, _ := get(t, s, "/", cookie); status != 200 || !bytes.Contains(body, []byte("backchannel-csrf")) {
		t.Errorf("GET / with the session from the token: %d %s", status, body)
	}
	for _, tt := range []struct {
		name, token, origin string
		status              int
	}{
		{"wrong token", strings.Repeat("0", 64), "http://127.0.0.1:" + port, 401},
		{"token prefix", s.Token[:32], "http://127.0.0.1:" + port, 401},
		{"empty", "", "http://127.0.0.1:" + port, 401},
		{"the token from another origin", s.Token, "http://evil.example", 403},
		{"the token from another port", s.Token, "http://127.0.0.1:1", 403},
	} {
		resp, body := post(tt.token, tt.origin)
		if resp.StatusCode != tt.status {
			t.Errorf("%s: %d, want %d", tt.name, resp.StatusCode, tt.status)
		}
		if len(resp.Cookies()) != 0 {
			t.Errorf("%s: cookies set: %v", tt.name, resp.Cookies())
		}
		if tt.status == 401 {
			loginScreen(t, tt.name, body)
			if !bytes.Contains(body, []byte("not the API token of this daemon")) {
				t.Errorf("%s: the login screen does not say why: %s", tt.name, body)
			}
		}
	}
}

// TestLoginLinksEndpoint: POST /v1/login-links makes a link for the bearer
// token only.
func TestLoginLinksEndpoint(t *testing.T) {
	s := apitest.StartServerWithUI(t, testUI)
	status, b := do(t, s, "POST", "/v1/login-links", "", nil)
	if status != 201 {
		t.Fatalf("with the token: %d %s", status, b)
	}
	var link api.LoginLink
	if err := json.Unmarshal(b, &link); err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirect.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("the link made through the API: %d", resp.StatusCode)
	}
	if d := time.Until(link.Expires); d <= 0 || d > api.LoginLinkTTL {
		t.Errorf("the link expires in %v", d)
	}
	cookie, csrf := uiSession(t, s)
	status, b = doCookie(t, s, "POST", "/v1/login-links", "", cookie, map[string]string{"Authorization": "", api.CSRFHeader: csrf})
	if status != 403 {
		t.Errorf("with a session: %d %s, want 403", status, b)
	}
	if status, _ := do(t, s, "POST", "/v1/login-links", "", map[string]string{"Authorization": ""}); status != 401 {
		t.Errorf("without credentials: %d, want 401", status)
	}
	noUI := apitest.StartServer(t)
	if status, _ := do(t, noUI, "POST", "/v1/login-links", "", nil); status != 404 {
		t.Errorf("without a UI: %d, want 404", status)
	}
	if _, err := noUI.LoginURL(time.Minute); err == nil {
		t.Error("LoginURL without a UI: no error")
	}
}

// TestEveryRouteNeedsCredentials: every route the server has refuses a
// request without the token or a session's cookie and CSRF value, but the
// login screen and its login.
func TestEveryRouteNeedsCredentials(t *testing.T) {
	s := apitest.StartServerWithUI(t, testUI)
	cookie := login(t, s)
	public := map[string]bool{"GET /{$}": true, "GET " + api.LoginPath: true, "POST " + api.LoginPath: true}
	wildcard := regexp.MustCompile(`\{[a-z]+\}`)
	routes := s.Routes()
	if len(routes) < 40 {
		t.Fatalf("%d routes: %v", len(routes), routes)
	}
	for _, pattern := range routes {
		method, path, ok := strings.Cut(pattern, " ")
		if !ok {
			t.Errorf("route %q has no method", pattern)
			continue
		}
		path = strings.ReplaceAll(path, "{$}", "")
		path = wildcard.ReplaceAllString(path, "x")
		if strings.HasSuffix(path, "/") && path != "/" {
			path += "js/screen.js"
		}
		for _, cred := range []struct {
			name string
			hdr  map[string]string
		}{
			{"nothing", map[string]string{"Authorization": ""}},
			{"a wrong token", map[string]string{"Authorization": "Bearer " + strings.Repeat("0", 64)}},
			{"the session cookie without its CSRF value", map[string]string{"Authorization": "", "Cookie": cookie.Name + "=" + cookie.Value}},
			{"the session cookie with a wrong CSRF value", map[string]string{"Authorization": "", "Cookie": cookie.Name + "=" + cookie.Value, api.CSRFHeader: strings.Repeat("0", 64)}},
			{"the session cookie as a WebSocket upgrade", map[string]string{"Authorization": "", "Cookie": cookie.Name + "=" + cookie.Value, "Origin": "http://" + s.Addr(), "Upgrade": "websocket"}},
		} {
			if path == "/v1/events" && strings.Contains(cred.name, "WebSocket") {
				continue // the event stream's WebSocket takes the cookie and the Origin (TestUISessionEvents)
			}
			if (strings.HasPrefix(path, "/ui/") || path == "/") && strings.Contains(cred.name, "session cookie") {
				continue // the UI's page and files are the session's with the cookie alone
			}
			body := ""
			if method != "GET" {
				body = "{}"
			}
			status, b := do(t, s, method, path, body, cred.hdr)
			switch {
			case public[pattern]:
				loginScreen(t, pattern+" with "+cred.name, b)
			case status != 401:
				t.Errorf("%s %s with %s: %d %s, want 401", method, path, cred.name, status, b)
			}
		}
	}
}
