package api

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

// The web UI's session. Serving the UI's page sets a session cookie
// (HttpOnly, SameSite=Strict, random per server run, held in memory); the
// API accepts that cookie in place of the bearer token when the request also
// carries CSRFHeader with the per-run value the page holds in a <meta> tag.
// A cross-site form or image cannot set the header, and a cross-origin
// script cannot read the page; the WebSocket, which cannot carry headers,
// accepts the cookie when the browser's Origin header names this server.
const (
	// CSRFHeader carries the UI's per-run CSRF value on every API call made
	// with the session cookie.
	CSRFHeader = "X-Backchannel-CSRF"
	// SessionCookiePrefix begins the session cookie's name; the port
	// follows, because browsers share cookies between the ports of a host.
	SessionCookiePrefix = "backchannel_session_"
	// csrfPlaceholder is replaced in the UI's index.html by the CSRF value.
	csrfPlaceholder = "{{CSRF}}"
	// uiPrefix is where the UI's static files are served.
	uiPrefix = "/ui/"
)

// secretHex returns n random bytes in hex.
func secretHex(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return []byte(hex.EncodeToString(b))
}

// uiRequest tells whether r asks for the web UI (its page or a static
// file), which needs no credentials: serving the page is what hands the
// browser its session.
func (s *Server) uiRequest(r *http.Request) bool {
	if s.cfg.UI == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
		return false
	}
	return r.URL.Path == "/" || strings.HasPrefix(r.URL.Path, uiPrefix)
}

// sessionAuthorized tells whether r carries the UI's session: the cookie,
// and the CSRF header, or for the event stream's WebSocket an Origin header
// (guard has checked that it names this server).
func (s *Server) sessionAuthorized(r *http.Request) bool {
	c, err := r.Cookie(s.cookieName)
	if err != nil || subtle.ConstantTimeCompare([]byte(c.Value), s.session) != 1 {
		return false
	}
	if h := r.Header.Get(CSRFHeader); h != "" {
		return subtle.ConstantTimeCompare([]byte(h), s.csrf) == 1
	}
	return r.URL.Path == "/v1/events" && r.Header.Get("Origin") != "" &&
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// uiRoutes adds the web UI to mux when the server has one.
func (s *Server) uiRoutes(mux *http.ServeMux) {
	if s.cfg.UI == nil {
		return
	}
	files := http.StripPrefix(uiPrefix, http.FileServerFS(s.cfg.UI))
	mux.HandleFunc("GET /{$}", s.uiIndex)
	mux.HandleFunc("GET "+uiPrefix, func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/") || strings.HasSuffix(r.URL.Path, "/index.html") {
			writeError(w, http.StatusNotFound, CodeNotFound, "no such file: "+r.URL.Path)
			return
		}
		uiHeaders(w, s.port)
		files.ServeHTTP(w, r)
	})
}

// uiIndex serves the UI's page with the CSRF value in it, and sets the
// session cookie.
func (s *Server) uiIndex(w http.ResponseWriter, r *http.Request) {
	page, err := fs.ReadFile(s.cfg.UI, "index.html")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page = bytes.ReplaceAll(page, []byte(csrfPlaceholder), s.csrf)
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName,
		Value:    string(s.session),
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	uiHeaders(w, s.port)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(page)
}

// uiHeaders sets the headers of every UI response: nothing but this server
// may be loaded or contacted, the page may not be framed, and no Referer
// leaves it.
func uiHeaders(w http.ResponseWriter, port int) {
	p := strconv.Itoa(port)
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; "+
		"connect-src 'self' ws://127.0.0.1:"+p+" ws://localhost:"+p+" ws://[::1]:"+p+"; "+
		"frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
}
