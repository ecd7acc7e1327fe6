package bench

import (
	"math"
	"slices"
	"testing"

	"github.com/libp2p/go-libp2p/core/protocol"

	"github.com/backchannel/backchannel/node/rooms"
)

func TestAudienceCases(t *testing.T) {
	tests := []struct {
		name        string
		sizes       []int
		ballotsOnly int
		want        []audienceCase
	}{
		{"both modes everywhere", []int{10, 30}, 0, []audienceCase{{10, modeTopic}, {10, modeBallots}, {30, modeTopic}, {30, modeBallots}}},
		{"the largest in ballots mode only", []int{10, 300}, 300, []audienceCase{{10, modeTopic}, {10, modeBallots}, {300, modeBallots}}},
		{"none", nil, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := audienceCases(tt.sizes, tt.ballotsOnly); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPacedPresence(t *testing.T) {
	tests := []struct {
		n    int
		want float64
	}{
		{2, 1.0 / 60},                  // the host alone
		{10, 8.0/60 + 1.0/60},          // every member each minute
		{120, 118.0/60 + 1.0/60},       // the knee: 2 a second room-wide
		{300, 298.0/150 + 1.0/60},      // each listener every 150 s
		{10_000, 9998.0/5000 + 1.0/60}, // still 2 a second
	}
	for _, tt := range tests {
		if got := pacedPresence(tt.n); math.Abs(got-tt.want) > 1e-9 {
			t.Errorf("pacedPresence(%d) = %v, want %v", tt.n, got, tt.want)
		}
	}
}

func TestVoteCounts(t *testing.T) {
	want := wantCounts(5)
	if want.upvotes != 5 || want.reactions["👍"] != 3 || want.reactions["🎉"] != 2 {
		t.Fatalf("wantCounts(5) = %v", want)
	}
	tests := []struct {
		name string
		got  voteCounts
		ok   bool
	}{
		{"equal", voteCounts{hasQ: true, hasLine: true, upvotes: 5, reactions: map[string]int{"👍": 3, "🎉": 2}}, true},
		{"an upvote short", voteCounts{hasQ: true, hasLine: true, upvotes: 4, reactions: map[string]int{"👍": 3, "🎉": 2}}, false},
		{"a reaction short", voteCounts{hasQ: true, hasLine: true, upvotes: 5, reactions: map[string]int{"👍": 3, "🎉": 1}}, false},
		{"an emoji missing", voteCounts{hasQ: true, hasLine: true, upvotes: 5, reactions: map[string]int{"👍": 3}}, false},
		{"an emoji too many", voteCounts{hasQ: true, hasLine: true, upvotes: 5, reactions: map[string]int{"👍": 3, "🎉": 2, "x": 1}}, false},
		{"no question", voteCounts{hasLine: true, upvotes: 5, reactions: map[string]int{"👍": 3, "🎉": 2}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.got.equal(want); got != tt.ok {
				t.Errorf("equal = %v, want %v", got, tt.ok)
			}
		})
	}
}

// point is an audience room with its per-listener medians and maxima, and
// the bytes in per message applied.
func point(n int, mode string, msgs, msgsMax, in, inMax, perMsg float64) AudiencePoint {
	return AudiencePoint{Nodes: n, Mode: mode, Audience: Spread{msgs, 0, msgsMax}, BytesIn: Spread{in, 0, inMax}, BytesOut: Spread{in, 0, inMax},
		BytesPerMessage: perMsg, Listeners: n - 1, ListenersCorrect: n - 1}
}

// verdict finds a verdict row by the start of its name.
func verdict(t *testing.T, figs []Figure, prefix string) Figure {
	t.Helper()
	for _, f := range figs {
		if len(f.Name) >= len(prefix) && f.Name[:len(prefix)] == prefix {
			return f
		}
	}
	t.Fatalf("no row %q in %v", prefix, figs)
	return Figure{}
}

func TestAudienceVerdicts(t *testing.T) {
	// The model allows 1.15 msg/s at 10 nodes, 2.67 at 100 (×1.25: 3.33).
	tests := []struct {
		name   string
		points []AudiencePoint
		held   bool
		// met of the ballots rows: msgs budget, bytes budget, the model, bytes per message's growth
		met [4]bool
	}{
		{"within", []AudiencePoint{
			point(10, modeBallots, 0.4, 0.5, 3000, 4000, 2000), point(100, modeBallots, 2.6, 2.7, 12_000, 15_000, 2500),
		}, true, [4]bool{true, true, true, true}},
		{"a listener over the message budget", []AudiencePoint{
			point(10, modeBallots, 0.4, 0.5, 3000, 4000, 2000), point(100, modeBallots, 2.6, 4.5, 12_000, 15_000, 2500),
		}, false, [4]bool{false, true, true, true}},
		{"a listener over the byte budget", []AudiencePoint{
			point(10, modeBallots, 0.4, 0.5, 3000, 4000, 2000), point(100, modeBallots, 2.6, 2.7, 12_000, 21_000, 2500),
		}, false, [4]bool{true, false, true, true}},
		{"more than the model", []AudiencePoint{
			point(10, modeBallots, 0.4, 0.5, 3000, 4000, 2000), point(100, modeBallots, 3.5, 3.6, 12_000, 15_000, 2500),
		}, false, [4]bool{true, true, false, true}},
		{"a message costs more in a larger room", []AudiencePoint{
			point(10, modeBallots, 0.4, 0.5, 3000, 4000, 2000), point(100, modeBallots, 2.6, 2.7, 12_000, 15_000, 3500),
		}, false, [4]bool{true, true, true, false}},
		{"topic mode grows and is not judged", []AudiencePoint{
			point(10, modeTopic, 1, 1, 3000, 3000, 2000), point(100, modeTopic, 10, 12, 30_000, 40_000, 5000),
			point(10, modeBallots, 0.4, 0.5, 3000, 4000, 2000), point(100, modeBallots, 2.6, 2.7, 12_000, 15_000, 2500),
		}, true, [4]bool{true, true, true, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			figs := audienceVerdicts(tt.points)
			rows := []string{"ballots mode: budget: highest listener's audience msg/s", "ballots mode: budget: highest listener's KB/s",
				"ballots mode: audience msg/s at 100 nodes (median listener) against the capacity model's", "ballots mode: growth of bytes in per message"}
			for i, r := range rows {
				f := verdict(t, figs, r)
				if f.Met == nil || *f.Met != tt.met[i] {
					t.Errorf("%s: met %v, want %v (value %v, ratio %v)", r, f.Met, tt.met[i], f.Value, f.Ratio)
				}
			}
			if m := verdict(t, figs, "ballots mode: the capacity model's audience msg/s at 10,000"); m.Met == nil || !*m.Met {
				t.Errorf("the model at 10,000 listeners: %v, met %v", m.Value, m.Met)
			}
			h := verdict(t, figs, "ballots mode: budget held")
			if (h.Value == 1) != tt.held || h.Met == nil || *h.Met != tt.held {
				t.Errorf("held %v (met %v), want %v", h.Value, h.Met, tt.held)
			}
			for _, f := range figs {
				if len(f.Name) > 5 && f.Name[:5] == "topic" && f.Target != nil {
					t.Errorf("%s: topic mode has a target", f.Name)
				}
			}
		})
	}
}

func TestAudienceFigures(t *testing.T) {
	tests := []struct {
		name      string
		p         AudiencePoint
		rows      int
		correctOK bool
	}{
		{"topic", AudiencePoint{Nodes: 10, Mode: modeTopic, Listeners: 9, ListenersCorrect: 9}, 11, true},
		{"ballots", AudiencePoint{Nodes: 10, Mode: modeBallots, Listeners: 9, ListenersCorrect: 9, BurstBallots: 9, BurstTaken: 9}, 18, true},
		{"a wrong count", AudiencePoint{Nodes: 10, Mode: modeTopic, Listeners: 9, ListenersCorrect: 8}, 11, false},
		// Rows of their own for the protocols and GossipSub parts of at
		// least 3% of the bytes (here 600 B/s): /meshsub in and out,
		// messages and IHAVE in, messages out.
		{"a breakdown", AudiencePoint{Nodes: 10, Mode: modeTopic, Listeners: 9, ListenersCorrect: 9,
			BytesIn: Spread{Median: 10_000}, BytesOut: Spread{Median: 10_000},
			ByProtocol: []ProtocolBytes{{"/meshsub/1.3.0", 9000, 9000}, {"/ipfs/kad/1.0.0", 100, 100}},
			GossipIn:   GossipBytes{Messages: 6000, IHave: 2000, IWant: 10},
			GossipOut:  GossipBytes{Messages: 6000, IHave: 500}}, 16, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			figs := audienceFigures(tt.p)
			if len(figs) != tt.rows {
				t.Fatalf("%d rows, want %d", len(figs), tt.rows)
			}
			f := verdict(t, figs, "10 nodes, "+tt.p.Mode+": listeners showing the host's counts")
			if f.Met == nil || *f.Met != tt.correctOK {
				t.Errorf("counts met %v, want %v", f.Met, tt.correctOK)
			}
		})
	}
}

func TestByteMeter(t *testing.T) {
	m := newByteMeter()
	a := m.mark()
	tests := []struct {
		proto   string
		in, out int64
	}{
		{rooms.ProtocolBallot, 185, 1},
		{"/meshsub/1.2.0", 1000, 600},
		{rooms.ProtocolBallot, 185, 1},
	}
	for _, tt := range tests {
		m.LogRecvMessage(tt.in) // counted by the stream call only
		m.LogRecvMessageStream(tt.in, protoID(tt.proto), "")
		m.LogSentMessage(tt.out)
		m.LogSentMessageStream(tt.out, protoID(tt.proto), "")
	}
	d := m.mark().since(a)
	if d.in != 1370 || d.out != 602 {
		t.Errorf("in %d, out %d; want 1370, 602", d.in, d.out)
	}
	if d.protoIn[rooms.ProtocolBallot] != 370 || d.protoOut[rooms.ProtocolBallot] != 2 {
		t.Errorf("ballot in %d, out %d; want 370, 2", d.protoIn[rooms.ProtocolBallot], d.protoOut[rooms.ProtocolBallot])
	}
	if s := m.GetBandwidthTotals(); s.TotalIn != 1370 || s.TotalOut != 602 {
		t.Errorf("totals %+v", s)
	}
}

func protoID(s string) protocol.ID { return protocol.ID(s) }
