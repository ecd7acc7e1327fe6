package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestTargets(t *testing.T) {
	tests := []struct {
		name string
		f    Figure
		met  *bool
	}{
		{"ratio met", figVs("p50", "ms", 2, 0.25, "raw", ratioAtMost(10)), ptr(true)},
		{"ratio missed", figVs("p50", "ms", 3, 0.25, "raw", ratioAtMost(10)), ptr(false)},
		{"at least met", fig("rate", "msg/s", 6000, atLeast(5000)), ptr(true)},
		{"at least missed", fig("rate", "msg/s", 4000, atLeast(5000)), ptr(false)},
		{"at most", fig("rss", "MB", 60, atMost(60)), ptr(true)},
		{"exactly", fig("lost", "msgs", 1, exactly(0)), ptr(false)},
		{"ratio at least", figVs("x", "", 2, 1, "raw", ratioAtLeast(1.5)), ptr(true)},
		{"no target", fig("open", "ms", 10, nil), nil},
		{"ratio without a baseline", fig("p50", "ms", 1, ratioAtMost(2)), nil},
		{"zero baseline", figVs("p50", "ms", 1, 0, "raw", ratioAtMost(2)), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			switch {
			case tc.met == nil && tc.f.Met != nil:
				t.Fatalf("met = %v, want unknown", *tc.f.Met)
			case tc.met != nil && (tc.f.Met == nil || *tc.f.Met != *tc.met):
				t.Fatalf("met = %v, want %v", tc.f.Met, *tc.met)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestCountFaults(t *testing.T) {
	sent := []int{1, 2, 3, 4}
	f := countFaults(sent, func(yield func(int)) {
		for _, id := range []int{1, 2, 2, 3, 9} { // 2 twice, 4 missing, 9 not ours
			yield(id)
		}
	})
	want := Faults{Sent: 4, Delivered: 3, Lost: 1, Duplicated: 1}
	if f != want {
		t.Fatalf("got %+v, want %+v", f, want)
	}
	if f.Clean() {
		t.Fatal("a lost message is not clean")
	}
}

func TestNum(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 2.04: "2.04", 0.2289: "0.229", 155.3: "155", 6607.4: "6,607", 1e6: "1,000,000", 100: "100"} {
		if got := num(in); got != want {
			t.Errorf("num(%v) = %q, want %q", in, got, want)
		}
	}
}

func sampleReport() *Report {
	lost := Faults{Sent: 10, Delivered: 9, Lost: 1}
	return &Report{Mode: "quick", Runs: 3, Machine: Machine{CPU: "test CPU", Cores: 2, LoadStart: "0.5", LoadEnd: "0.7"}, Scenarios: []ScenarioResult{
		{Name: "dm", Status: StatusOK, Figures: []Figure{figVs("latency p50", "ms", 2, 0.25, "raw round trip", ratioAtMost(10))}},
		{Name: "rooms", Status: StatusOK, Sizes: []SizePoint{samplePoint(10, 0.3), samplePoint(30, 0.8)}, Figures: sizeFigures("10 nodes: ", samplePoint(10, 0.3))},
		{Name: "groups", Status: StatusOK, Figures: sizeFigures("30 members: ", samplePoint(30, 0.8))},
		{Name: "late", Status: StatusNotYet, Figures: []Figure{missing("re-key", "ms", "not yet", nil)}},
		{Name: "store", Status: StatusError, Error: "disk full"},
		{Name: "flood", Status: StatusOK, Faults: &lost, Figures: faultFigures(lost)},
	}}
}

// samplePoint is a size of three runs whose signed raw ran with the
// machine busy at busy.
func samplePoint(n int, busy float64) SizePoint {
	side := func(p50 []float64, cpu float64, sat float64) ([]windowResult, *Saturation) {
		var ws []windowResult
		for _, p := range p50 {
			ws = append(ws, windowResult{want: 900, got: 900, asked: 50, achieved: 50, p50: time.Duration(p * float64(time.Millisecond)),
				p99: 10 * time.Millisecond, use: usage{cpu: time.Duration(cpu * 900 * float64(time.Microsecond)), busy: busy}})
		}
		var s *Saturation
		if sat > 0 {
			s = &Saturation{Sustained: sat, Failed: 2 * sat}
		}
		return ws, s
	}
	var c compared
	c.ours, c.oursSat = side([]float64{3.5, 4, 5}, 600, 100)
	c.signed, c.signSat = side([]float64{3, 3.2, 3.6}, 500, 200)
	c.raw, _ = side([]float64{2.4, 2.5, 2.7}, 300, 0)
	return sizePoint(n, c, 1.25, 1.25)
}

func TestProblems(t *testing.T) {
	p := sampleReport().Problems()
	if len(p) != 2 || !strings.Contains(p[0], "disk full") || !strings.Contains(p[1], "1 lost") {
		t.Fatalf("problems %q", p)
	}
}

func TestTable(t *testing.T) {
	var b bytes.Buffer
	if err := sampleReport().WriteTable(&b); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"latency p50", "0.25 ms", "8×", "≤ 10× baseline", "yes", "not yet", "ERROR, store: disk full", "= 0 msgs", "NO",
		"3 run(s) per room and group size", "1-minute load 0.5 at start, 0.7 at end",
		"4 ms (3.5–5)", "3.2 ms (3–3.6)", "2.5 ms (2.4–2.7)", // median (min–max): ours, signed raw, raw
		"no verdict: busy 80% during signed raw (judged under 50%)",
		"baselines, rooms: signed raw GossipSub; floor column: raw GossipSub",
		"saturation: highest rate sustained", "200 msg/s"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, b.String())
		}
	}
}

func TestReportJSON(t *testing.T) {
	b, err := json.Marshal(sampleReport())
	if err != nil {
		t.Fatal(err)
	}
	var back Report
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	f := back.Scenarios[0].Figures[0]
	if f.Baseline == nil || *f.Baseline != 0.25 || f.Ratio == nil || *f.Ratio != 8 || f.Met == nil || !*f.Met {
		t.Fatalf("figure after a round trip: %+v", f)
	}
}

func TestRunOnly(t *testing.T) {
	if _, err := Run(t.Context(), Options{Only: []string{"nope"}}); !errors.Is(err, ErrUnknownScenario) {
		t.Fatalf("unknown scenario: %v", err)
	}
	if testing.Short() {
		t.Skip("runs the group scenarios")
	}
	var progress syncBuffer
	rep, err := Run(t.Context(), Options{Smoke: true, Only: []string{"groups", "group-away"}, Progress: NewProgress(&progress)})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("progress:\n%s", progress.String())
	if len(rep.Scenarios) != 2 || rep.Scenarios[0].Name != "groups" || rep.Scenarios[1].Name != "group-away" {
		t.Fatalf("scenarios %+v", rep.Scenarios)
	}
	for _, s := range rep.Scenarios {
		if s.Status != StatusOK {
			t.Errorf("%s: %s %s", s.Name, s.Status, s.Error)
		}
	}
	if p := rep.Problems(); len(p) != 0 {
		t.Fatalf("problems: %v", p)
	}
	groups := rep.Scenarios[0]
	byName := map[string]Figure{}
	for _, f := range groups.Figures {
		byName[f.Name] = f
	}
	// Ours, signed raw and raw delivered everything, were timed, and the
	// new epoch reached every member.
	if f := byName["4 members: delivered (worst run)"]; f.Value != 100 || f.Baseline == nil || *f.Baseline != 100 || f.Floor == nil || *f.Floor != 100 {
		t.Fatalf("delivered %+v", f)
	}
	if f := byName["4 members: latency p50"]; f.Value <= 0 || f.BaselineName != signedBase || f.Baseline == nil || *f.Baseline <= 0 || f.FloorName != rawBase || f.Floor == nil || *f.Floor <= 0 {
		t.Fatalf("latency p50 %+v", f)
	}
	if f := byName["new epoch at every member after a removal"]; f.Value <= 0 {
		t.Fatalf("new epoch %+v", f)
	}
	if len(groups.Sizes) != 1 || groups.Sizes[0].Runs != 1 || len(groups.Sizes[0].Ours.EachRun) != 1 {
		t.Fatalf("group sizes %+v", groups.Sizes)
	}
	if away := rep.Scenarios[1]; away.Faults == nil || away.Faults.Sent == 0 || !away.Faults.Clean() {
		t.Fatalf("member away: %+v", away.Faults)
	}
	if !strings.Contains(progress.String(), "member 0 back") {
		t.Fatalf("progress:\n%s", progress.String())
	}
}

// syncBuffer is a bytes.Buffer safe for the progress display's writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
