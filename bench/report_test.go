package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
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
	return &Report{Mode: "quick", Machine: Machine{CPU: "test CPU", Cores: 2}, Scenarios: []ScenarioResult{
		{Name: "dm", Status: StatusOK, Figures: []Figure{figVs("latency p50", "ms", 2, 0.25, "raw round trip", ratioAtMost(10))}},
		{Name: "rooms", Status: StatusOK, Rooms: []RoomPoint{{Nodes: 10, P50: 4, P99: 8, RawP50: 0.8, RawP99: 1.6}, {Nodes: 30, P50: 9, P99: 19, RawP50: 1.7, RawP99: 5}}},
		{Name: "groups", Status: StatusNotYet, Figures: []Figure{missing("re-key", "ms", "not yet", nil)}},
		{Name: "store", Status: StatusError, Error: "disk full"},
		{Name: "flood", Status: StatusOK, Faults: &lost, Figures: faultFigures(lost)},
	}}
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
	for _, want := range []string{"latency p50", "0.25 ms", "8×", "≤ 10× raw", "yes", "not yet", "ERROR, store: disk full", "= 0 msgs", "NO"} {
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
	if len(groups.Figures) != 10 || groups.Figures[0].Value != 100 || groups.Figures[0].Baseline == nil || groups.Figures[6].Value <= 0 {
		t.Fatalf("group figures %+v", groups.Figures)
	}
	// The signed raw run delivered everything and was timed.
	if s := groups.Figures[7]; s.BaselineName != signedBase || s.Baseline == nil || *s.Baseline <= 0 || groups.Figures[9].Value != 100 {
		t.Fatalf("signed raw figures %+v", groups.Figures[7:])
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
