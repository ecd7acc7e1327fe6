package node

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/backchannel/backchannel/node/internal/ratelog"
)

// warnCounter is a slog.Handler counting WARN and ERROR records by message.
type warnCounter struct {
	mu sync.Mutex
	n  map[string]int
}

func (h *warnCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *warnCounter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *warnCounter) WithGroup(string) slog.Handler            { return h }
func (h *warnCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		h.mu.Lock()
		h.n[r.Message]++
		h.mu.Unlock()
	}
	return nil
}

// TestMalformedStreamsLogBounded: a stranger opening 1,000 malformed
// streams on each protocol it can reach (1:1 messages, prekeys, room sync,
// room ballots, group sync) makes the node write a bounded number of warnings: one per
// kind and 10 s, not one per stream.
func TestMalformedStreamsLogBounded(t *testing.T) {
	const streams = 1000
	logs := &warnCounter{n: map[string]int{}}
	a := newTestNode(t, "", func(c *Config) { c.Logger = slog.New(logs) })
	rp := newRawPeer(t)
	rp.connect(a)
	garbage := []byte("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xffnot a frame")
	start := time.Now()
	for _, proto := range []protocol.ID{ProtocolDM, ProtocolPreKeys, ProtocolSync, ProtocolRoomBallot, ProtocolGroupSync} {
		for range streams {
			s, err := rp.h.NewStream(t.Context(), a.ID(), proto)
			if err != nil {
				t.Fatalf("%s: %v", proto, err)
			}
			_ = s.SetDeadline(time.Now().Add(10 * time.Second))
			_, _ = s.Write(garbage)
			_ = s.CloseWrite()
			_, _ = io.Copy(io.Discard, s) // until the node resets or closes it
			_ = s.Close()
		}
	}
	// Each kind may be written once at first and once per interval since.
	allowed := 2 + int(time.Since(start)/ratelog.DefaultEvery)
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if len(logs.n) == 0 {
		t.Fatal("no warning at all: the streams were not seen as malformed")
	}
	for msg, n := range logs.n {
		t.Logf("%q: %d", msg, n)
		if n > allowed {
			t.Errorf("%q written %d times for %d streams, want at most %d", msg, n, streams, allowed)
		}
	}
}
