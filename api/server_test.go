package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// do sends a request to s with the right Host and token unless the
// header map overrides them ("" removes a header).
func do(t *testing.T, s *apitest.Server, method, path, body string, hdr map[string]string) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+s.Addr()+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+s.Token)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		switch {
		case k == "Host":
			req.Host = v
		case v == "":
			req.Header.Del(k)
		default:
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, b
}

func errorCode(t *testing.T, b []byte) string {
	t.Helper()
	var e api.Error
	if err := json.Unmarshal(b, &e); err != nil {
		t.Fatalf("error body %q: %v", b, err)
	}
	if e.Error == "" {
		t.Errorf("error body %q has no message", b)
	}
	return e.Code
}

func TestChecks(t *testing.T) {
	s := apitest.StartServer(t)
	port := s.Addr()[strings.LastIndex(s.Addr(), ":")+1:]
	tests := []struct {
		name     string
		path     string
		hdr      map[string]string
		status   int
		wantCode string
	}{
		{"ok", "/v1/health", nil, 200, ""},
		{"no token", "/v1/health", map[string]string{"Authorization": ""}, 401, api.CodeUnauthorized},
		{"wrong token", "/v1/health", map[string]string{"Authorization": "Bearer " + strings.Repeat("0", 64)}, 401, api.CodeUnauthorized},
		{"token prefix", "/v1/health", map[string]string{"Authorization": "Bearer " + s.Token[:32]}, 401, api.CodeUnauthorized},
		{"basic auth", "/v1/health", map[string]string{"Authorization": "Basic " + s.Token}, 401, api.CodeUnauthorized},
		{"lower-case scheme", "/v1/health", map[string]string{"Authorization": "bearer " + s.Token}, 200, ""},
		{"metrics need the token", "/metrics", map[string]string{"Authorization": ""}, 401, api.CodeUnauthorized},
		{"unknown route needs the token", "/nope", map[string]string{"Authorization": ""}, 401, api.CodeUnauthorized},
		{"localhost host", "/v1/health", map[string]string{"Host": "localhost:" + port}, 200, ""},
		{"ipv6 host", "/v1/health", map[string]string{"Host": "[::1]:" + port}, 200, ""},
		{"rebinding host", "/v1/health", map[string]string{"Host": "evil.example:" + port}, 403, api.CodeForbidden},
		{"host without port", "/v1/health", map[string]string{"Host": "127.0.0.1"}, 403, api.CodeForbidden},
		{"host other port", "/v1/health", map[string]string{"Host": "127.0.0.1:1"}, 403, api.CodeForbidden},
		{"same origin", "/v1/health", map[string]string{"Origin": "http://127.0.0.1:" + port}, 200, ""},
		{"localhost origin", "/v1/health", map[string]string{"Origin": "http://localhost:" + port}, 200, ""},
		{"foreign origin", "/v1/health", map[string]string{"Origin": "https://evil.example"}, 403, api.CodeForbidden},
		{"null origin", "/v1/health", map[string]string{"Origin": "null"}, 403, api.CodeForbidden},
		{"origin other port", "/v1/health", map[string]string{"Origin": "http://127.0.0.1:1"}, 403, api.CodeForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, s, "GET", tt.path, "", tt.hdr)
			if status != tt.status {
				t.Fatalf("status %d, want %d (body %s)", status, tt.status, body)
			}
			if tt.wantCode != "" {
				if got := errorCode(t, body); got != tt.wantCode {
					t.Errorf("code %q, want %q", got, tt.wantCode)
				}
			}
		})
	}
}

func TestNewRefusesNonLoopback(t *testing.T) {
	f := apitest.NewFake(apitest.PeerID(0))
	for _, addr := range []string{"0.0.0.0:0", ":0", "198.18.0.10:8080", "[::]:0", "example.com:80", "127.0.0.1", "127.0.0.1:99999"} {
		if _, err := api.New(api.Config{Addr: addr, Home: t.TempDir(), Backend: f.Backend()}); err == nil {
			t.Errorf("New with Addr %q: no error", addr)
		}
	}
	for _, addr := range []string{"", "127.0.0.1:0", "127.0.0.2:0", "localhost:0", "[::1]:0"} {
		if _, err := api.New(api.Config{Addr: addr, Home: t.TempDir(), Backend: f.Backend()}); err != nil {
			t.Errorf("New with Addr %q: %v", addr, err)
		}
	}
}

func TestNewNeedsEveryBackend(t *testing.T) {
	b := apitest.NewFake(apitest.PeerID(0)).Backend()
	b.Groups = nil
	_, err := api.New(api.Config{Home: t.TempDir(), Backend: b})
	if err == nil || !strings.Contains(err.Error(), "Backend.Groups") {
		t.Errorf("New without Backend.Groups: %v", err)
	}
}

func TestFiles(t *testing.T) {
	home := t.TempDir()
	f := apitest.NewFake(apitest.PeerID(0))
	start := func() *api.Server {
		t.Helper()
		s, err := api.New(api.Config{Home: home, Backend: f.Backend()})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := start()
	for _, name := range []string{api.APIFileName, api.TokenFileName} {
		fi, err := os.Stat(filepath.Join(home, name))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", name, fi.Mode().Perm())
		}
	}
	b, err := os.ReadFile(filepath.Join(home, api.APIFileName))
	if err != nil {
		t.Fatal(err)
	}
	var af struct {
		Addr string `json:"addr"`
		PID  int    `json:"pid"`
	}
	if err := json.Unmarshal(b, &af); err != nil {
		t.Fatal(err)
	}
	if af.Addr != s.Addr() || af.PID != os.Getpid() {
		t.Errorf("api.json = %s, want addr %s and pid %d", b, s.Addr(), os.Getpid())
	}
	tok1, err := api.ReadToken(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(home, api.APIFileName)); !os.IsNotExist(err) {
		t.Errorf("api.json still there after Close: %v", err)
	}
	s = start()
	defer s.Close()
	tok2, err := api.ReadToken(home)
	if err != nil {
		t.Fatal(err)
	}
	if string(tok1) != string(tok2) {
		t.Error("token changed across restarts")
	}
}

func TestCloseIdempotent(t *testing.T) {
	s := apitest.StartServer(t)
	for range 3 {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// A server never started closes too.
	n, err := api.New(api.Config{Home: t.TempDir(), Backend: s.Fake.Backend()})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Start(context.Background()); err == nil {
		t.Error("Start after Close: no error")
	}
}

func TestMetrics(t *testing.T) {
	s := apitest.StartServer(t)
	do(t, s, "GET", "/v1/id", "", nil)
	do(t, s, "GET", "/v1/id", "", map[string]string{"Authorization": ""})
	status, body := do(t, s, "GET", "/metrics", "", nil)
	if status != 200 {
		t.Fatalf("status %d", status)
	}
	for _, want := range []string{
		`backchannel_api_requests_total{code="200",route="GET /v1/id"} 1`,
		`backchannel_api_requests_total{code="401",route="unmatched"} 1`,
		`backchannel_api_request_duration_seconds_count{route="GET /v1/id"} 1`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q:\n%s", want, body)
		}
	}
}
