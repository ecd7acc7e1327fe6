package api

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// allowedHosts are the Host and Origin values a request may carry: the
// loopback names of the port the server listens on. Checking Host defends
// against DNS rebinding; checking Origin keeps other web pages out.
type allowedHosts struct {
	hosts   map[string]bool
	origins map[string]bool
}

func newAllowedHosts(port int) allowedHosts {
	p := strconv.Itoa(port)
	return allowedHosts{
		hosts: map[string]bool{
			"127.0.0.1:" + p: true,
			"localhost:" + p: true,
			"[::1]:" + p:     true,
		},
		origins: map[string]bool{
			"http://127.0.0.1:" + p: true,
			"http://localhost:" + p: true,
			"http://[::1]:" + p:     true,
		},
	}
}

// guard runs every check a request must pass before it reaches a handler:
// Host, Origin, credentials (the bearer token, or a web UI session's cookie
// with its CSRF header); then it bounds the body. Without credentials only
// the login screen is served (publicRequest); the UI's files need the
// session cookie.
func (s *Server) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.allowed.hosts[strings.ToLower(r.Host)] {
			writeError(w, http.StatusForbidden, CodeForbidden, "host not allowed")
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !s.allowed.origins[strings.ToLower(o)] {
			writeError(w, http.StatusForbidden, CodeForbidden, "origin not allowed")
			return
		}
		if !s.publicRequest(r) && !s.uiFileRequest(r) && !s.authorized(r) && !s.sessionAuthorized(r) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="backchannel"`)
			writeError(w, http.StatusUnauthorized, CodeUnauthorized, "missing or wrong bearer token (or web UI session)")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		next.ServeHTTP(w, r)
	})
}

// authorized compares the bearer token in constant time.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	const prefix = "Bearer "
	if len(h) < len(prefix) || !strings.EqualFold(h[:len(prefix)], prefix) {
		return false
	}
	got := []byte(strings.TrimSpace(h[len(prefix):]))
	return subtle.ConstantTimeCompare(got, s.token) == 1
}

// statusRecorder remembers the status a handler wrote, for the metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (and the WebSocket upgrade) reach the
// underlying writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// instrument counts requests and their latency by route: the mux pattern
// that matched, or "unmatched" (which includes requests refused before
// routing).
func (s *Server) instrument(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		route := r.Pattern
		if route == "" || route == "/" {
			route = "unmatched"
		}
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		s.metrics.observe(route, rec.status, time.Since(start))
	})
}
