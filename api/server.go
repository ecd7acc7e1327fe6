package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultAddr is where the API listens unless told otherwise: loopback, a
// free port.
const DefaultAddr = "127.0.0.1:0"

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 256 << 10

// shutdownTimeout bounds how long Close waits for requests in flight.
const shutdownTimeout = 5 * time.Second

// Config configures a Server.
type Config struct {
	// Addr is the loopback host:port to listen on; DefaultAddr if empty.
	// Anything but 127.0.0.0/8, ::1 or localhost is refused.
	Addr string
	// Home is the node's home folder, where the server writes api.json and
	// keeps api.token. Required.
	Home string
	// Backend is the node served, one interface per concern. Required, every
	// field set.
	Backend Backend
	// Logger receives the server's logs; nil discards them.
	Logger *slog.Logger
	// Registry receives the request metrics and is served on /metrics; nil
	// means a private registry.
	Registry *prometheus.Registry
	// UI is the web UI: its index.html is served at / to a browser logged
	// in, its login.html to any other, its files under /ui/ (to a session,
	// but those under public/), versioned under /ui/v/VERSION/ too; nil
	// serves none. See package web.
	UI fs.FS
}

// Server is the local HTTP and WebSocket API of a node.
type Server struct {
	cfg      Config
	log      *slog.Logger
	token    []byte
	logins   *logins  // the web UI's login codes and sessions
	uiFiles  *uiFiles // the web UI's static files, when it has a UI
	patterns []string // the routes, for tests
	metrics  *metrics
	handler  http.Handler

	mu         sync.Mutex
	started    bool
	listener   net.Listener
	http       *http.Server
	addr       string
	allowed    allowedHosts
	port       int
	cookieName string

	ctx    context.Context // cancelled by Close; ends event streams
	cancel context.CancelFunc
	wg     sync.WaitGroup // the serve goroutine and the event streams

	closeOnce sync.Once
	closeErr  error
}

// New checks cfg and makes a Server; Start makes it listen.
func New(cfg Config) (*Server, error) {
	if cfg.Home == "" {
		return nil, errors.New("api: config: Home is required")
	}
	if f := cfg.Backend.missing(); f != "" {
		return nil, fmt.Errorf("api: config: Backend.%s is required", f)
	}
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if err := CheckAddr(cfg.Addr); err != nil {
		return nil, err
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Registry == nil {
		cfg.Registry = prometheus.NewRegistry()
	}
	m, err := newMetrics(cfg.Registry)
	if err != nil {
		return nil, err
	}
	var files *uiFiles
	if cfg.UI != nil {
		if files, err = newUIFiles(cfg.UI); err != nil {
			return nil, fmt.Errorf("api: web UI files: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{
		cfg: cfg, log: cfg.Logger, metrics: m, ctx: ctx, cancel: cancel,
		logins: newLogins(), uiFiles: files,
	}
	s.handler = s.routes()
	return s, nil
}

// CheckAddr refuses a listen address that is not host:port on the loopback
// interface: the API must never be reachable from the network. New calls
// it; the daemon calls it first to fail before starting the node.
func CheckAddr(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("api: listen address %q: %w", addr, err)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("api: listen address %q: bad port", addr)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("api: listen address %q: the API listens on loopback only (127.0.0.1, ::1 or localhost)", addr)
}

// Start loads or creates the token, listens, serves in the background and
// writes Home/api.json. The server runs until Close.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("api: already started")
	}
	if s.ctx.Err() != nil {
		return errors.New("api: closed")
	}
	tok, err := loadOrCreateToken(s.cfg.Home)
	if err != nil {
		return err
	}
	s.token = tok
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("api: listen: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	s.listener = ln
	s.addr = ln.Addr().String()
	s.allowed = newAllowedHosts(port)
	s.port = port
	s.cookieName = SessionCookiePrefix + strconv.Itoa(port)
	s.http = &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return s.ctx },
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if err := writeAPIFile(s.cfg.Home, apiFile{Addr: s.addr, PID: os.Getpid()}); err != nil {
		ln.Close()
		return err
	}
	s.started = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		if err := s.http.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("api: serve", "err", err)
		}
	}()
	s.log.Info("api listening", "addr", s.addr)
	return nil
}

// Addr returns the address the server listens on, once started.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Handler returns the server's HTTP handler, with every check in place. It
// is meant for tests; Start serves it.
func (s *Server) Handler() http.Handler { return s.handler }

// Close stops the server gracefully: it ends the event streams, lets
// requests in flight finish (for a few seconds at most), waits for its
// goroutines and removes Home/api.json. It is safe to call more than once.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		started, srv, addr := s.started, s.http, s.addr
		s.mu.Unlock()
		if started {
			// Shutdown waits for plain requests; the event streams are
			// hijacked connections, which it leaves alone: cancelling s.ctx
			// ends them, and s.wg waits for them.
			ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
			defer cancel()
			if err := srv.Shutdown(ctx); err != nil {
				s.closeErr = fmt.Errorf("api: shutdown: %w", err)
				srv.Close()
			}
		}
		s.cancel()
		if started {
			if err := removeAPIFile(s.cfg.Home, addr); err != nil && s.closeErr == nil {
				s.closeErr = err
			}
		}
		s.wg.Wait()
	})
	return s.closeErr
}
