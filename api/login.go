package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"slices"
	"sync"
	"time"
)

// Logging in to the web UI. A browser gets a session only against the
// bearer token: by opening a one-time login link, which whoever holds the
// token makes (POST /v1/login-links, `backchannel ui`; the daemon logs one
// at start), or by pasting the token into the login screen. Everything else
// a browser gets without a session is the login screen and its style sheet.
const (
	// LoginLinkTTL is how long a login link made through the API stays
	// good; it works once.
	LoginLinkTTL = 2 * time.Minute
	// LoginPath takes a one-time code (GET LoginPath?code=) or the token
	// from the login screen's form (POST LoginPath, field "token").
	LoginPath = "/login"
	// maxLoginCodes bounds the login codes waiting to be used; making one
	// more drops the one that expires first.
	maxLoginCodes = 16
	// maxSessions bounds the sessions of a server run; a new login beyond
	// it ends the oldest session.
	maxSessions = 32
	// loginCodeBytes and sessionBytes are the sizes of the random values.
	loginCodeBytes = 16
	sessionBytes   = 32
)

// logins holds the outstanding login codes and the sessions, both only as
// SHA-256 hashes, so that a map lookup reveals nothing about a secret
// through its timing.
type logins struct {
	mu       sync.Mutex
	now      func() time.Time
	codes    map[[32]byte]time.Time // code hash → expiry
	sessions map[[32]byte][]byte    // cookie hash → the session's CSRF value
	order    [][32]byte             // session hashes, oldest first
}

func newLogins() *logins {
	return &logins{
		now:      time.Now,
		codes:    make(map[[32]byte]time.Time),
		sessions: make(map[[32]byte][]byte),
	}
}

// newCode returns a fresh login code good for ttl, and its expiry.
func (l *logins) newCode(ttl time.Duration) (string, time.Time) {
	code := hex.EncodeToString(randomBytes(loginCodeBytes))
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for h, exp := range l.codes {
		if !now.Before(exp) {
			delete(l.codes, h)
		}
	}
	for len(l.codes) >= maxLoginCodes {
		var first [32]byte
		var firstExp time.Time
		for h, exp := range l.codes {
			if firstExp.IsZero() || exp.Before(firstExp) {
				first, firstExp = h, exp
			}
		}
		delete(l.codes, first)
	}
	exp := now.Add(ttl)
	l.codes[sha256.Sum256([]byte(code))] = exp
	return code, exp
}

// redeem uses up code: it tells whether the code was outstanding and
// unexpired. A code works once, whatever the answer.
func (l *logins) redeem(code string) bool {
	if code == "" {
		return false
	}
	h := sha256.Sum256([]byte(code))
	l.mu.Lock()
	defer l.mu.Unlock()
	exp, ok := l.codes[h]
	delete(l.codes, h)
	return ok && l.now().Before(exp)
}

// newSession makes a session and returns its cookie value.
func (l *logins) newSession() string {
	cookie := hex.EncodeToString(randomBytes(sessionBytes))
	csrf := []byte(hex.EncodeToString(randomBytes(sessionBytes)))
	h := sha256.Sum256([]byte(cookie))
	l.mu.Lock()
	defer l.mu.Unlock()
	for len(l.order) >= maxSessions {
		delete(l.sessions, l.order[0])
		l.order = slices.Delete(l.order, 0, 1)
	}
	l.sessions[h] = csrf
	l.order = append(l.order, h)
	return cookie
}

// csrf returns the CSRF value of the session whose cookie value is cookie.
func (l *logins) csrf(cookie string) ([]byte, bool) {
	h := sha256.Sum256([]byte(cookie))
	l.mu.Lock()
	defer l.mu.Unlock()
	c, ok := l.sessions[h]
	return c, ok
}

// randomBytes returns n bytes from crypto/rand, which never fails.
func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// LoginURL makes a one-time login link to the web UI, good for ttl. The
// daemon logs one at start; POST /v1/login-links makes them for the CLI.
// It needs a started server with a UI.
func (s *Server) LoginURL(ttl time.Duration) (LoginLink, error) {
	s.mu.Lock()
	addr := s.addr
	s.mu.Unlock()
	if addr == "" {
		return LoginLink{}, ErrNotStarted
	}
	if s.cfg.UI == nil {
		return LoginLink{}, ErrNoUI
	}
	code, exp := s.logins.newCode(ttl)
	return LoginLink{URL: "http://" + addr + LoginPath + "?code=" + code, Expires: exp.UTC()}, nil
}

// newLoginLink serves POST /v1/login-links: only to the bearer token, not
// to a session.
func (s *Server) newLoginLink(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		writeError(w, http.StatusForbidden, CodeForbidden, "login links are made with the bearer token only")
		return
	}
	link, err := s.LoginURL(LoginLinkTTL)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, link)
}

// Messages of the login screen (fixed text: nothing a request carried).
const (
	loginAsk      = ""
	loginBadLink  = "This login link was used already, has expired, or is not from this daemon."
	loginBadToken = "That is not the API token of this daemon."
)

// loginWithCode serves GET /login?code=: a good code makes a session and
// sends the browser to the UI.
func (s *Server) loginWithCode(w http.ResponseWriter, r *http.Request) {
	if !s.logins.redeem(r.URL.Query().Get("code")) {
		s.log.Debug("api: web UI login refused", "by", "link")
		s.loginPage(w, r, http.StatusUnauthorized, loginBadLink)
		return
	}
	s.startSession(w, r, "link")
}

// loginWithToken serves POST /login from the login screen's form.
func (s *Server) loginWithToken(w http.ResponseWriter, r *http.Request) {
	tok := r.PostFormValue("token")
	if subtle.ConstantTimeCompare([]byte(tok), s.token) != 1 {
		s.log.Debug("api: web UI login refused", "by", "token")
		s.loginPage(w, r, http.StatusUnauthorized, loginBadToken)
		return
	}
	s.startSession(w, r, "token")
}

// startSession sets a new session's cookie and sends the browser to the
// UI's page. The redirect keeps the code out of the page's address. by
// says how the browser logged in, for the log.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, by string) {
	http.SetCookie(w, &http.Cookie{
		Name:     s.cookieName,
		Value:    s.logins.newSession(),
		Path:     "/",
		HttpOnly: true,
		SameSite: http.SameSiteStrictMode,
	})
	s.log.Info("api: web UI login", "by", by)
	uiHeaders(w, s.port)
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// session returns the CSRF value of r's session, if r has one.
func (s *Server) session(r *http.Request) ([]byte, bool) {
	c, err := r.Cookie(s.cookieName)
	if err != nil {
		return nil, false
	}
	return s.logins.csrf(c.Value)
}
