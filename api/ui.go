package api

import (
	"bytes"
	"crypto/subtle"
	"html"
	"io/fs"
	"net/http"
	"strconv"
	"strings"
)

// The web UI's session. A browser gets it by logging in (login.go): a
// session cookie (HttpOnly, SameSite=Strict, random per login, held in
// memory) and, in the UI's page, a CSRF value of that session. The API
// accepts the cookie in place of the bearer token when the request also
// carries CSRFHeader with that value. A cross-site form or image cannot set
// the header, and a cross-origin script cannot read the page; the
// WebSocket, which cannot carry headers, accepts the cookie when the
// browser's Origin header names this server.
const (
	// CSRFHeader carries the session's CSRF value on every API call made
	// with the session cookie.
	CSRFHeader = "X-Backchannel-CSRF"
	// SessionCookiePrefix begins the session cookie's name; the port
	// follows, because browsers share cookies between the ports of a host.
	SessionCookiePrefix = "backchannel_session_"
	// csrfPlaceholder is replaced in the UI's index.html by the CSRF value.
	csrfPlaceholder = "{{CSRF}}"
	// messagePlaceholder is replaced in the UI's login.html by what the
	// login screen says (why a login failed).
	messagePlaceholder = "{{MESSAGE}}"
	// uiPlaceholder is replaced in both pages by the path of the current
	// version's files (uiFiles.prefix), "/ui/v/VERSION".
	uiPlaceholder = "{{UI}}"
	// uiPrefix is where the UI's static files are served (uiFiles): to a
	// session only, but for those in publicDir, which the login screen uses.
	uiPrefix  = "/ui/"
	publicDir = "public/"
	// The UI's pages: the app, for a session; the login screen, for anyone.
	appFile   = "index.html"
	loginFile = "login.html"
)

// publicRequest tells whether r asks for what the web UI serves without a
// session: the page at / (which is the login screen without one), the
// login itself, and the login screen's files.
func (s *Server) publicRequest(r *http.Request) bool {
	if s.cfg.UI == nil {
		return false
	}
	switch p := r.URL.Path; {
	// uiName refuses a dot-dot, escaped too ("/ui/public/%2e%2e/app.js",
	// which the mux lets through), and anything but a version where one
	// goes: the name it returns is the file served.
	case p == "/", publicFile(p):
		return r.Method == http.MethodGet || r.Method == http.MethodHead
	case p == LoginPath:
		// Not HEAD: a link checker's HEAD would spend a login code.
		return r.Method == http.MethodGet || r.Method == http.MethodPost
	}
	return false
}

// publicFile tells whether p is the address of one of the login screen's
// files, versioned or not.
func publicFile(p string) bool {
	name, _, ok := uiName(p)
	return ok && strings.HasPrefix(name, publicDir)
}

// uiFileRequest tells whether r asks for one of the UI's files with a
// session cookie: a script or style sheet load sends the cookie but cannot
// add the CSRF header.
func (s *Server) uiFileRequest(r *http.Request) bool {
	if s.cfg.UI == nil || (r.Method != http.MethodGet && r.Method != http.MethodHead) || !strings.HasPrefix(r.URL.Path, uiPrefix) {
		return false
	}
	_, ok := s.session(r)
	return ok
}

// sessionAuthorized tells whether r carries a UI session: its cookie, and
// its CSRF header, or for the event stream's WebSocket an Origin header
// (guard has checked that it names this server).
func (s *Server) sessionAuthorized(r *http.Request) bool {
	csrf, ok := s.session(r)
	if !ok {
		return false
	}
	if h := r.Header.Get(CSRFHeader); h != "" {
		return subtle.ConstantTimeCompare([]byte(h), csrf) == 1
	}
	return r.URL.Path == "/v1/events" && r.Header.Get("Origin") != "" &&
		strings.EqualFold(r.Header.Get("Upgrade"), "websocket")
}

// uiRoutes adds the web UI and its login to mux when the server has one.
func (s *Server) uiRoutes(mux *routeMux) {
	if s.cfg.UI == nil {
		return
	}
	mux.HandleFunc("GET /{$}", s.uiIndex)
	mux.HandleFunc("GET "+LoginPath, s.loginWithCode)
	mux.HandleFunc("POST "+LoginPath, s.loginWithToken)
	mux.HandleFunc("POST /v1/login-links", s.newLoginLink)
	mux.HandleFunc("GET "+uiPrefix, func(w http.ResponseWriter, r *http.Request) {
		name, version, ok := uiName(r.URL.Path)
		if !ok || strings.HasSuffix(name, ".html") {
			writeError(w, http.StatusNotFound, CodeNotFound, "no such file: "+r.URL.Path)
			return
		}
		uiHeaders(w, s.port)
		s.uiFiles.serve(w, r, name, version)
	})
}

// uiIndex serves the UI's page, with the session's CSRF value in it, to a
// session, and the login screen to anyone else.
func (s *Server) uiIndex(w http.ResponseWriter, r *http.Request) {
	csrf, ok := s.session(r)
	if !ok {
		s.loginPage(w, r, http.StatusOK, loginAsk)
		return
	}
	s.servePage(w, r, http.StatusOK, appFile, csrfPlaceholder, string(csrf))
}

// loginPage serves the login screen with msg (one of the login* constants,
// never anything a request carried).
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.servePage(w, r, status, loginFile, messagePlaceholder, html.EscapeString(msg))
}

// servePage serves the UI's page name with placeholder replaced by value,
// and uiPlaceholder by the path of the current version's files.
func (s *Server) servePage(w http.ResponseWriter, r *http.Request, status int, name, placeholder, value string) {
	page, err := fs.ReadFile(s.cfg.UI, name)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page = bytes.ReplaceAll(page, []byte(uiPlaceholder), []byte(s.uiFiles.prefix()))
	page = bytes.ReplaceAll(page, []byte(placeholder), []byte(value))
	uiHeaders(w, s.port)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(page)
}

// uiHeaders sets the headers of every UI response: nothing but this server
// may be loaded or contacted (the event stream's WebSocket by host name or
// IPv4 loopback; CSP has no source expression for an IPv6 literal, and
// Chromium refuses the policy's "ws://[::1]:PORT" with a console error,
// while 'self' covers a page loaded from [::1]), the page may not be
// framed, and no Referer
// leaves for another origin. (Not "no-referrer": under it a browser sends
// "Origin: null" with the login screen's form, which guard refuses.)
func uiHeaders(w http.ResponseWriter, port int) {
	p := strconv.Itoa(port)
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; "+
		"connect-src 'self' ws://127.0.0.1:"+p+" ws://localhost:"+p+"; "+
		"frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Content-Type-Options", "nosniff")
}
