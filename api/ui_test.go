package api_test

import (
	"bytes"
	"compress/gzip"
	"image/png"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/coder/websocket"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
)

var testUI = fstest.MapFS{
	"index.html":       {Data: []byte(`<meta name="backchannel-csrf" content="{{CSRF}}"><script src="{{UI}}/app.js"></script>`)},
	"login.html":       {Data: []byte(`<title>log in</title><link rel="stylesheet" href="{{UI}}/public/style.css"><p>{{MESSAGE}}</p><form method="post" action="/login"><input name="token"></form>`)},
	"app.js":           {Data: []byte(`console.log("hi")`)},
	"js/screen.js":     {Data: []byte(`export {}`)},
	"public/style.css": {Data: []byte(`body {}`)},
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// login opens a new one-time login link of s as a browser would and
// returns the session cookie it set.
func login(t *testing.T, s *apitest.Server) *http.Cookie {
	t.Helper()
	link, err := s.LoginURL(api.LoginLinkTTL)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := noRedirect.Get(link.URL)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Fatalf("GET %s: %d to %q, want 303 to /: %s", link.URL, resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return sessionCookie(t, s, resp)
}

// sessionCookie returns the session cookie resp sets, after checking its
// name and attributes.
func sessionCookie(t *testing.T, s *apitest.Server, resp *http.Response) *http.Cookie {
	t.Helper()
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if strings.HasPrefix(c.Name, api.SessionCookiePrefix) {
			cookie = c
		}
	}
	if cookie == nil {
		t.Fatalf("no session cookie set: %v", resp.Header["Set-Cookie"])
	}
	port := s.Addr()[strings.LastIndex(s.Addr(), ":")+1:]
	if cookie.Name != api.SessionCookiePrefix+port || !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Path != "/" {
		t.Errorf("session cookie %+v: want %s%s, HttpOnly, SameSite=Strict, Path=/", cookie, api.SessionCookiePrefix, port)
	}
	if len(cookie.Value) < 64 {
		t.Errorf("session cookie value %q: want 256 random bits", cookie.Value)
	}
	return cookie
}

// uiSession logs in to s and opens the UI's page with the session, as a
// browser would, and returns the session cookie and the CSRF value in the
// page.
func uiSession(t *testing.T, s *apitest.Server) (*http.Cookie, string) {
	t.Helper()
	cookie := login(t, s)
	status, body, hdr := get(t, s, "/", cookie)
	if status != 200 {
		t.Fatalf("GET / with the session: %d %s", status, body)
	}
	m := regexp.MustCompile(`content="([0-9a-f]{64})"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("page has no CSRF value: %s", body)
	}
	if string(m[1]) == cookie.Value {
		t.Error("the CSRF value is the session cookie")
	}
	if bytes.Contains(body, []byte(s.Token)) {
		t.Error("the page holds the bearer token")
	}
	csp := hdr.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("page CSP %q", csp)
	}
	return cookie, string(m[1])
}

// uiVersioned returns the path of s's current version of the UI's files,
// /ui/v/VERSION, from the login screen, which names its style sheet there.
func uiVersioned(t *testing.T, s *apitest.Server) string {
	t.Helper()
	status, body, _ := get(t, s, "/", nil)
	m := regexp.MustCompile(`href="(/ui/v/[0-9a-f]{16})/public/style.css"`).FindSubmatch(body)
	if status != 200 || m == nil {
		t.Fatalf("GET /: %d, no versioned style sheet in %s", status, body)
	}
	return string(m[1])
}

// get sends GET path to s as a browser would, with no token and with
// cookie when not nil.
func get(t *testing.T, s *apitest.Server, path string, cookie *http.Cookie) (int, []byte, http.Header) {
	t.Helper()
	resp, b := send(t, s, "GET", path, cookie, nil)
	return resp.StatusCode, b, resp.Header
}

// browser is a client that shows redirects instead of following them and
// leaves Accept-Encoding and the bodies as they are.
var browser = &http.Client{CheckRedirect: noRedirect.CheckRedirect, Transport: &http.Transport{DisableCompression: true}}

// send sends method path to s as a browser would, with no token, with
// cookie when not nil and with the headers hdr, and returns the response
// and its body as sent.
func send(t *testing.T, s *apitest.Server, method, path string, cookie *http.Cookie, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := browser.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

func TestUISession(t *testing.T) {
	s := apitest.StartServerWithUI(t, testUI)
	cookie, csrf := uiSession(t, s)
	port := s.Addr()[strings.LastIndex(s.Addr(), ":")+1:]
	stale := &http.Cookie{Name: cookie.Name, Value: strings.Repeat("0", 64)}
	other := apitest.StartServerWithUI(t, testUI)
	otherCookie, otherCSRF := uiSession(t, other)
	otherCookie.Name = cookie.Name // as if another daemon run had served this port
	v := uiVersioned(t, s)
	oldV := "/ui/v/0123456789abcdef"

	tests := []struct {
		name     string
		method   string
		path     string
		cookie   *http.Cookie
		hdr      map[string]string
		status   int
		wantCode string
	}{
		{"static file without a session", "GET", "/ui/app.js", nil, nil, 401, api.CodeUnauthorized},
		{"static file with a stale cookie", "GET", "/ui/app.js", stale, nil, 401, api.CodeUnauthorized},
		{"static file with the session cookie", "GET", "/ui/app.js", cookie, nil, 200, ""},
		{"nested static file", "GET", "/ui/js/screen.js", cookie, nil, 200, ""},
		{"the login screen's file without a session", "GET", "/ui/public/style.css", nil, nil, 200, ""},
		{"no listing", "GET", "/ui/js/", cookie, nil, 404, api.CodeNotFound},
		{"no listing of public files", "GET", "/ui/public/", nil, nil, 401, api.CodeUnauthorized},
		{"no listing of public files with the session", "GET", "/ui/public/", cookie, nil, 404, api.CodeNotFound},
		{"out of public files by dot-dot", "GET", "/ui/public/../app.js", nil, nil, 401, api.CodeUnauthorized},
		{"out of public files by escaped dot-dot", "GET", "/ui/public/%2e%2e/app.js", nil, nil, 401, api.CodeUnauthorized},
		{"versioned file without a session", "GET", v + "/app.js", nil, nil, 401, api.CodeUnauthorized},
		{"versioned file with the session cookie", "GET", v + "/js/screen.js", cookie, nil, 200, ""},
		{"versioned public file without a session", "GET", v + "/public/style.css", nil, nil, 200, ""},
		{"another version's public file without a session", "GET", oldV + "/public/style.css", nil, nil, 200, ""},
		{"another version's file without a session", "GET", oldV + "/app.js", nil, nil, 401, api.CodeUnauthorized},
		{"out of versioned public files by dot-dot", "GET", v + "/public/../app.js", nil, nil, 401, api.CodeUnauthorized},
		{"out of versioned public files by escaped dot-dot", "GET", v + "/public/%2e%2e/app.js", nil, nil, 401, api.CodeUnauthorized},
		{"a dot-dot for a version", "GET", "/ui/v/%2e%2e/public/style.css", nil, nil, 401, api.CodeUnauthorized},
		{"a public directory for a version", "GET", "/ui/v/public/style.css", nil, nil, 401, api.CodeUnauthorized},
		{"not a version", "GET", "/ui/v/nothex/app.js", cookie, nil, 404, api.CodeNotFound},
		{"no listing of a version", "GET", v + "/", cookie, nil, 404, api.CodeNotFound},
		{"no app page under a version", "GET", v + "/index.html", cookie, nil, 404, api.CodeNotFound},
		{"no app page under /ui/", "GET", "/ui/index.html", cookie, nil, 404, api.CodeNotFound},
		{"missing file", "GET", "/ui/nope.js", cookie, nil, 404, ""},
		{"page from another host", "GET", "/", nil, map[string]string{"Host": "evil.example:" + port}, 403, api.CodeForbidden},
		{"post to the page needs credentials", "POST", "/", nil, nil, 401, api.CodeUnauthorized},
		{"cookie and csrf", "GET", "/v1/id", cookie, map[string]string{api.CSRFHeader: csrf}, 200, ""},
		{"cookie and csrf, same origin", "POST", "/v1/invites", cookie, map[string]string{api.CSRFHeader: csrf, "Origin": "http://127.0.0.1:" + port, "Content-Type": "application/json"}, 200, ""},
		{"cookie without csrf", "GET", "/v1/id", cookie, nil, 401, api.CodeUnauthorized},
		{"cookie with wrong csrf", "GET", "/v1/id", cookie, map[string]string{api.CSRFHeader: otherCSRF}, 401, api.CodeUnauthorized},
		{"csrf without cookie", "GET", "/v1/id", nil, map[string]string{api.CSRFHeader: csrf}, 401, api.CodeUnauthorized},
		{"stale cookie", "GET", "/v1/id", stale, map[string]string{api.CSRFHeader: csrf}, 401, api.CodeUnauthorized},
		{"another run's session", "GET", "/v1/id", otherCookie, map[string]string{api.CSRFHeader: otherCSRF}, 401, api.CodeUnauthorized},
		{"cookie and csrf from another origin", "GET", "/v1/id", cookie, map[string]string{api.CSRFHeader: csrf, "Origin": "http://evil.example"}, 403, api.CodeForbidden},
		{"cross-site form post", "POST", "/v1/messages", cookie, map[string]string{"Origin": "http://127.0.0.1:1", "Content-Type": "application/x-www-form-urlencoded"}, 403, api.CodeForbidden},
		{"preflight from another origin", "OPTIONS", "/v1/messages", nil, map[string]string{"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}, 403, api.CodeForbidden},
		{"metrics with the session", "GET", "/metrics", cookie, map[string]string{api.CSRFHeader: csrf}, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := map[string]string{"Authorization": ""}
			for k, v := range tt.hdr {
				hdr[k] = v
			}
			body := ""
			if tt.method == "POST" && tt.path != "/" {
				body = "{}"
				if strings.Contains(tt.hdr["Content-Type"], "form") {
					body = "to=x&text=y"
				}
			}
			status, b := doCookie(t, s, tt.method, tt.path, body, tt.cookie, hdr)
			if status != tt.status {
				t.Fatalf("status %d, want %d (body %s)", status, tt.status, b)
			}
			if tt.wantCode != "" {
				if got := errorCode(t, b); got != tt.wantCode {
					t.Errorf("code %q, want %q", got, tt.wantCode)
				}
			}
		})
	}
}

// doCookie is do with a cookie.
func doCookie(t *testing.T, s *apitest.Server, method, path, body string, c *http.Cookie, hdr map[string]string) (int, []byte) {
	t.Helper()
	if c != nil {
		hdr["Cookie"] = c.Name + "=" + c.Value
	}
	return do(t, s, method, path, body, hdr)
}

func TestUISessionEvents(t *testing.T) {
	s := apitest.StartServerWithUI(t, testUI)
	cookie := login(t, s)
	port := s.Addr()[strings.LastIndex(s.Addr(), ":")+1:]
	dial := func(h http.Header) (*websocket.Conn, *http.Response, error) {
		return websocket.Dial(t.Context(), "ws://"+s.Addr()+"/v1/events", &websocket.DialOptions{HTTPHeader: h})
	}
	withCookie := func(origin string) http.Header {
		h := http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}}
		if origin != "" {
			h.Set("Origin", origin)
		}
		return h
	}
	c, _, err := dial(withCookie("http://127.0.0.1:" + port))
	if err != nil {
		t.Fatalf("WebSocket with the session from the UI's origin: %v", err)
	}
	c.CloseNow()
	for _, tt := range []struct {
		name   string
		h      http.Header
		status int
	}{
		{"another origin", withCookie("http://evil.example"), 403},
		{"another port", withCookie("http://127.0.0.1:1"), 403},
		{"no origin", withCookie(""), 401},
		{"no cookie", http.Header{"Origin": {"http://127.0.0.1:" + port}}, 401},
	} {
		c, resp, err := dial(tt.h)
		if err == nil {
			c.CloseNow()
			t.Errorf("%s: WebSocket accepted", tt.name)
			continue
		}
		if resp == nil || resp.StatusCode != tt.status {
			t.Errorf("%s: %v (response %v), want status %d", tt.name, err, resp, tt.status)
		}
	}
}

func TestNoUI(t *testing.T) {
	s := apitest.StartServer(t)
	if status, _ := do(t, s, "GET", "/", "", map[string]string{"Authorization": ""}); status != 401 {
		t.Errorf("GET / without a UI and without a token: %d, want 401", status)
	}
	if status, _ := do(t, s, "GET", "/ui/app.js", "", nil); status != 404 {
		t.Errorf("GET /ui/app.js without a UI: %d, want 404", status)
	}
}

func TestInviteQR(t *testing.T) {
	s := apitest.StartServer(t)
	status, b := do(t, s, "GET", "/v1/id/qr.png", "", nil)
	if status != 200 {
		t.Fatalf("status %d: %s", status, b)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if w := img.Bounds().Dx(); w < 200 {
		t.Errorf("QR code %d pixels wide", w)
	}
	if status, _ := do(t, s, "GET", "/v1/id/qr.png", "", map[string]string{"Authorization": ""}); status != 401 {
		t.Errorf("QR code without credentials: %d, want 401", status)
	}
}

// TestUIFilesCachedAndCompressed: the UI's static files are gzipped for a
// browser that accepts it when that is smaller (a file gzip would not
// shrink, or a browser that refuses gzip, gets the plain bytes), with
// "Vary: Accept-Encoding" and a strong ETag, and come back 304 without a
// body when the ETag matches. From the versioned path the pages name, a
// browser keeps them for a year without asking (public for the login
// screen's files, private for the session's); from the unversioned path,
// or another version's, it revalidates them every time ("no-cache").
func TestUIFilesCachedAndCompressed(t *testing.T) {
	ui := fstest.MapFS{"big.js": {Data: bytes.Repeat([]byte("export const line = 'a line of the UI';\n"), 200)}}
	for name, f := range testUI {
		ui[name] = f
	}
	s := apitest.StartServerWithUI(t, ui)
	v := uiVersioned(t, s)
	cookie, _ := uiSession(t, s)
	if _, page, _ := get(t, s, "/", cookie); !bytes.Contains(page, []byte(`src="`+v+`/app.js"`)) {
		t.Errorf("the app's page does not load its script from %s: %s", v, page)
	}
	fetch := func(method, path string, hdr map[string]string) (*http.Response, []byte) {
		t.Helper()
		return send(t, s, method, path, cookie, hdr)
	}
	const (
		immutable = "private, max-age=31536000, immutable"
		public    = "public, max-age=31536000, immutable"
	)
	big := ui["big.js"].Data
	resp, body := fetch("GET", v+"/big.js", map[string]string{"Accept-Encoding": "br, gzip;q=0.8"})
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Encoding") != "gzip" || !strings.HasPrefix(etag, `"`) ||
		resp.Header.Get("Cache-Control") != immutable || resp.Header.Get("Vary") != "Accept-Encoding" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("gzip GET: %d, headers %v", resp.StatusCode, resp.Header)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(plain, big) {
		t.Fatalf("gzipped body does not decompress to the file (err %v)", err)
	}
	if len(body) >= len(big)/4 {
		t.Errorf("gzipped %d bytes to %d", len(big), len(body))
	}
	tests := []struct {
		name     string
		method   string
		path     string
		hdr      map[string]string
		status   int
		encoding string
		cache    string
		body     []byte
	}{
		{"no Accept-Encoding", "GET", v + "/big.js", nil, 200, "", immutable, big},
		{"gzip refused", "GET", v + "/big.js", map[string]string{"Accept-Encoding": "gzip;q=0, identity"}, 200, "", immutable, big},
		{"ETag matches", "GET", v + "/big.js", map[string]string{"If-None-Match": etag, "Accept-Encoding": "gzip"}, 304, "", immutable, nil},
		{"one of several ETags matches", "GET", v + "/big.js", map[string]string{"If-None-Match": `"old", W/` + etag}, 304, "", immutable, nil},
		{"another ETag", "GET", v + "/big.js", map[string]string{"If-None-Match": `"old"`}, 200, "", immutable, big},
		{"HEAD", "HEAD", v + "/big.js", map[string]string{"Accept-Encoding": "gzip"}, 200, "gzip", immutable, nil},
		{"unversioned", "GET", "/ui/big.js", nil, 200, "", "no-cache", big},
		{"unversioned, ETag matches", "GET", "/ui/big.js", map[string]string{"If-None-Match": etag}, 304, "", "no-cache", nil},
		{"unversioned, gzipped", "HEAD", "/ui/big.js", map[string]string{"Accept-Encoding": "gzip"}, 200, "gzip", "no-cache", nil},
		{"another version", "GET", "/ui/v/0123456789abcdef/big.js", nil, 200, "", "no-cache", big},
		{"another version, ETag matches", "GET", "/ui/v/0123456789abcdef/big.js", map[string]string{"If-None-Match": etag}, 304, "", "no-cache", nil},
		{"too small to gain from gzip", "GET", v + "/app.js", map[string]string{"Accept-Encoding": "gzip"}, 200, "", immutable, ui["app.js"].Data},
		{"public file", "GET", v + "/public/style.css", nil, 200, "", public, ui["public/style.css"].Data},
		{"unversioned public file", "GET", "/ui/public/style.css", nil, 200, "", "no-cache", ui["public/style.css"].Data},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := fetch(tt.method, tt.path, tt.hdr)
			if resp.StatusCode != tt.status || resp.Header.Get("Content-Encoding") != tt.encoding || !bytes.Equal(body, tt.body) {
				t.Errorf("%d, encoding %q, %d bytes; want %d, %q, %d bytes", resp.StatusCode, resp.Header.Get("Content-Encoding"), len(body),
					tt.status, tt.encoding, len(tt.body))
			}
			if got := resp.Header.Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if got := resp.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("Vary %q", got)
			}
			if resp.Header.Get("ETag") != etag && strings.HasSuffix(tt.path, "/big.js") {
				t.Errorf("ETag %q, want %q", resp.Header.Get("ETag"), etag)
			}
			if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
				t.Errorf("CSP %q", csp)
			}
		})
	}
}

// TestUIVersion: the version in the files' paths is the same for the same
// files and changes when any file does, or a file is added, but not when
// only a page does (pages are never cached).
func TestUIVersion(t *testing.T) {
	version := func(ui fstest.MapFS) string {
		t.Helper()
		return uiVersioned(t, apitest.StartServerWithUI(t, ui))
	}
	with := func(name, data string) fstest.MapFS {
		ui := fstest.MapFS{}
		for n, f := range testUI {
			ui[n] = f
		}
		ui[name] = &fstest.MapFile{Data: []byte(data)}
		return ui
	}
	base := version(testUI)
	if again := version(with("app.js", string(testUI["app.js"].Data))); again != base {
		t.Errorf("the same files: version %s, then %s", base, again)
	}
	for _, tt := range []struct{ name, file, data string }{
		{"a script changed", "app.js", `console.log("bye")`},
		{"a nested script changed", "js/screen.js", `export const x = 1`},
		{"the style sheet changed", "public/style.css", `body { color: red }`},
		{"a file added", "js/other.js", `export {}`},
	} {
		if got := version(with(tt.file, tt.data)); got == base {
			t.Errorf("%s: version still %s", tt.name, got)
		}
	}
	if got := version(with("index.html", `<script src="{{UI}}/app.js"></script><!-- changed -->`)); got != base {
		t.Errorf("only the page changed: version %s, was %s", got, base)
	}
	backend := apitest.NewFake(apitest.PeerID(0)).Backend()
	if _, err := api.New(api.Config{Home: t.TempDir(), Backend: backend, UI: with("v/x.js", "")}); err == nil || !strings.Contains(err.Error(), "v/x.js") {
		t.Errorf("a UI with a file under v/, where the versions are: %v", err)
	}
}
