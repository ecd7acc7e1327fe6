package pubsub

import (
	"context"
	"log/slog"
	"sync"
	"testing"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// logCounter is a slog.Handler counting records by level and message.
type logCounter struct {
	mu sync.Mutex
	n  map[slog.Level]map[string]int
}

func newLogCounter() *logCounter { return &logCounter{n: map[slog.Level]map[string]int{}} }

func (h *logCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *logCounter) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logCounter) WithGroup(string) slog.Handler            { return h }
func (h *logCounter) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n[r.Level] == nil {
		h.n[r.Level] = map[string]int{}
	}
	h.n[r.Level][r.Message]++
	return nil
}

// count returns how many records at level had a message starting with prefix.
func (h *logCounter) count(level slog.Level, prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for msg, c := range h.n[level] {
		if len(msg) >= len(prefix) && msg[:len(prefix)] == prefix {
			n += c
		}
	}
	return n
}

const graylistedLog = "pubsub: peer graylisted"

// TestScoreWatchLogsGraylistOnce: a peer's fall below the graylist
// threshold is logged once at INFO however many inspections see it there;
// climbing back ends the episode (DEBUG), and so does GossipSub forgetting
// the peer, so that a new fall is logged again.
func TestScoreWatchLogsGraylistOnce(t *testing.T) {
	m, h := peer.ID("mallory"), peer.ID("honest")
	snap := func(scores map[peer.ID]float64) map[peer.ID]*lpubsub.PeerScoreSnapshot {
		s := map[peer.ID]*lpubsub.PeerScoreSnapshot{}
		for p, v := range scores {
			s[p] = &lpubsub.PeerScoreSnapshot{Score: v, Topics: map[string]*lpubsub.TopicScoreSnapshot{"/t": {InvalidMessageDeliveries: 3}}}
		}
		return s
	}
	steps := []struct {
		name             string
		scores           map[peer.ID]float64
		graylisted, back int // INFO and DEBUG lines so far
	}{
		{"honest", map[peer.ID]float64{m: 0, h: 1}, 0, 0},
		{"above the threshold", map[peer.ID]float64{m: graylistThreshold, h: 1}, 0, 0},
		{"falls below", map[peer.ID]float64{m: -90, h: 1}, 1, 0},
		{"still below", map[peer.ID]float64{m: -120, h: 1}, 1, 0},
		{"and again", map[peer.ID]float64{m: -85, h: 1}, 1, 0},
		{"recovers", map[peer.ID]float64{m: -40, h: 1}, 1, 1},
		{"falls again", map[peer.ID]float64{m: -90, h: 1}, 2, 1},
		{"forgotten", map[peer.ID]float64{h: 1}, 2, 1},
		{"back, still low", map[peer.ID]float64{m: -90, h: 1}, 3, 1},
	}
	logs := newLogCounter()
	var passed int
	w := newScoreWatch(slog.New(logs), func(map[peer.ID]*lpubsub.PeerScoreSnapshot) { passed++ })
	for i, st := range steps {
		w.inspect(snap(st.scores))
		if got := logs.count(slog.LevelInfo, graylistedLog); got != st.graylisted {
			t.Fatalf("%s: %d graylisting lines at INFO, want %d", st.name, got, st.graylisted)
		}
		if got := logs.count(slog.LevelDebug, "pubsub: peer no longer graylisted"); got != st.back {
			t.Fatalf("%s: %d recovery lines, want %d", st.name, got, st.back)
		}
		if passed != i+1 {
			t.Fatalf("%s: the next inspector ran %d times, want %d", st.name, passed, i+1)
		}
	}
	if got := w.lowest([]peer.ID{h, m, "unknown"}, 2); len(got) != 2 || got[0] != (PeerScore{m, -90}) || got[1] != (PeerScore{"unknown", 0}) {
		t.Fatalf("lowest two: %v", got)
	}
}

// TestStats: a node's Stats list each joined topic, by name, with its
// peers, its mesh and (with scoring) the peers' scores, lowest first.
func TestStats(t *testing.T) {
	tests := []struct {
		name    string
		scoring bool
	}{
		{"scoring", true},
		{"no scoring", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, w := meshPubSub(t, func(c *Config) { c.Scoring = tt.scoring })
			b, c := testPubSub(t), testPubSub(t)
			connect(t, b, a)
			connect(t, c, a)
			join(t, a, "/t/one", acceptAll)
			join(t, a, "/t/alone", acceptAll)
			join(t, b, "/t/one", acceptAll)
			join(t, c, "/t/one", acceptAll)
			waitMesh(t, w, "/t/one", b, c)
			got := a.Stats()
			if len(got) != 2 || got[0].Topic != "/t/alone" || got[1].Topic != "/t/one" {
				t.Fatalf("stats %+v, want /t/alone and /t/one", got)
			}
			if got[0].Peers != 0 || got[0].Mesh != 0 || len(got[0].Lowest) != 0 {
				t.Errorf("/t/alone: %+v, want no peers", got[0])
			}
			one := got[1]
			if one.Peers != 2 || one.Mesh != 2 {
				t.Errorf("/t/one: %d peers, %d in the mesh, want 2 and 2", one.Peers, one.Mesh)
			}
			if want := map[bool]int{true: 2, false: 0}[tt.scoring]; len(one.Lowest) != want {
				t.Fatalf("/t/one: scores %v, want %d", one.Lowest, want)
			}
			if tt.scoring && one.Lowest[0].Score > one.Lowest[1].Score {
				t.Errorf("/t/one: scores %v not lowest first", one.Lowest)
			}
		})
	}
}
