package ratelog

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// fakeClock is a clock tests move by hand.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newFake() *fakeClock                { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }
func lines(b *bytes.Buffer) []string     { return strings.Split(strings.TrimSpace(b.String()), "\n") }
func textHandler(b *bytes.Buffer) slog.Handler {
	return slog.NewTextHandler(b, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}})
}

// TestHandler: at WARN and above one record per kind and interval gets
// through, the next one carrying the count held back; kinds (level and
// message) are counted apart; INFO and DEBUG pass; derived loggers share
// the count.
func TestHandler(t *testing.T) {
	tests := []struct {
		name string
		run  func(log *slog.Logger, c *fakeClock)
		want []string
	}{
		{"a burst, then a quiet interval", func(log *slog.Logger, c *fakeClock) {
			for range 1000 {
				log.Warn("dm: dropping stream", "from", "p")
			}
			c.add(DefaultEvery)
			log.Warn("dm: dropping stream", "from", "q")
		}, []string{
			`level=WARN msg="dm: dropping stream" from=p`,
			`level=WARN msg="dm: dropping stream" from=q suppressed=999`,
		}},
		{"kinds apart", func(log *slog.Logger, c *fakeClock) {
			for range 10 {
				log.Warn("a")
				log.Warn("b")
				log.Error("a")
			}
		}, []string{`level=WARN msg=a`, `level=WARN msg=b`, `level=ERROR msg=a`}},
		{"inside the interval", func(log *slog.Logger, c *fakeClock) {
			log.Warn("a")
			c.add(DefaultEvery - time.Nanosecond)
			log.Warn("a")
			c.add(time.Nanosecond)
			log.Warn("a")
			log.Warn("a")
		}, []string{`level=WARN msg=a`, `level=WARN msg=a suppressed=1`}},
		{"info and debug pass", func(log *slog.Logger, c *fakeClock) {
			for range 3 {
				log.Info("i")
				log.Debug("d")
			}
		}, []string{`level=INFO msg=i`, `level=DEBUG msg=d`, `level=INFO msg=i`, `level=DEBUG msg=d`, `level=INFO msg=i`, `level=DEBUG msg=d`}},
		{"derived loggers share", func(log *slog.Logger, c *fakeClock) {
			log.With("svc", "dm").Warn("a")
			log.WithGroup("g").Warn("a")
			log.Warn("a")
		}, []string{`level=WARN msg=a svc=dm`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b bytes.Buffer
			c := newFake()
			log := slog.New(New(textHandler(&b), Config{Level: slog.LevelWarn, Now: c.now}))
			tt.run(log, c)
			got := lines(&b)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("logged\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// TestHandlerBoundsKinds: however many kinds arrive, the memory of them
// stays bounded.
func TestHandlerBoundsKinds(t *testing.T) {
	h := New(slog.NewTextHandler(io.Discard, nil), Config{Level: slog.LevelWarn})
	log := slog.New(h)
	for i := range 3 * maxKinds {
		log.Warn(strings.Repeat("x", i%97) + string(rune('a'+i%26)) + time.Duration(i).String())
	}
	if n := len(h.s.kinds); n > maxKinds {
		t.Fatalf("%d kinds remembered, want at most %d", n, maxKinds)
	}
	if !h.Enabled(context.Background(), slog.LevelWarn) {
		t.Fatal("not enabled at WARN")
	}
}
