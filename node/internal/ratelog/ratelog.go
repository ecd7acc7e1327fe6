// Package ratelog limits repeated log lines. A remote peer can make a node
// log at will (a malformed stream, a bad sync request, a dropped control
// message): one attack run once wrote 1.7 MB of identical warnings. Handler
// wraps a slog.Handler and lets through, at WARN and above, at most one
// record of each kind (level and message) per interval; the next record of
// that kind it lets through carries how many it held back in between
// ("suppressed"). Lower levels pass untouched: DEBUG is off by default and
// INFO lines are the node's own news.
package ratelog

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultEvery = 10 * time.Second
	// maxKinds bounds the kinds remembered. Messages are constants in the
	// code, so the bound is never reached in practice; if it is, the
	// memory starts again.
	maxKinds = 1024
)

// Config configures a Handler.
type Config struct {
	// Every is the interval between two records of one kind; 0 is
	// DefaultEvery.
	Every time.Duration
	// Level is the lowest level limited; its zero value is INFO, so set it
	// (the node uses slog.LevelWarn).
	Level slog.Level
	// Now is the clock; nil is time.Now (tests pass a fake one).
	Now func() time.Time
}

// Handler is a slog.Handler that drops repeated records (see the package
// comment). Handlers derived from one with WithAttrs and WithGroup share its
// memory of kinds. It is safe for concurrent use.
type Handler struct {
	next slog.Handler
	s    *state
}

type kind struct {
	level slog.Level
	msg   string
}

type entry struct {
	last       time.Time // when a record of the kind was last let through
	suppressed int       // records held back since
}

type state struct {
	every time.Duration
	level slog.Level
	now   func() time.Time

	mu    sync.Mutex
	kinds map[kind]*entry
}

// New returns a Handler passing what it lets through to next.
func New(next slog.Handler, cfg Config) *Handler {
	if cfg.Every <= 0 {
		cfg.Every = DefaultEvery
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Handler{next: next, s: &state{every: cfg.Every, level: cfg.Level, now: cfg.Now, kinds: map[kind]*entry{}}}
}

// Wrap returns log with its handler limited at WARN and above, every
// DefaultEvery.
func Wrap(log *slog.Logger) *slog.Logger {
	return slog.New(New(log.Handler(), Config{Level: slog.LevelWarn}))
}

// Enabled implements slog.Handler.
func (h *Handler) Enabled(ctx context.Context, l slog.Level) bool { return h.next.Enabled(ctx, l) }

// Handle implements slog.Handler.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < h.s.level {
		return h.next.Handle(ctx, r)
	}
	suppressed, ok := h.s.allow(kind{r.Level, r.Message})
	if !ok {
		return nil
	}
	if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return h.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (h *Handler) WithAttrs(as []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(as), s: h.s}
}

// WithGroup implements slog.Handler.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), s: h.s}
}

// allow reports whether a record of k may go through now and, if so, how
// many of its kind were held back since the last one.
func (s *state) allow(k kind) (suppressed int, ok bool) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.kinds[k]
	if e == nil {
		if len(s.kinds) >= maxKinds {
			clear(s.kinds)
		}
		s.kinds[k] = &entry{last: now}
		return 0, true
	}
	if now.Sub(e.last) < s.every {
		e.suppressed++
		return 0, false
	}
	suppressed = e.suppressed
	e.last, e.suppressed = now, 0
	return suppressed, true
}
