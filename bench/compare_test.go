package bench

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// window makes a window at rate that sustained it, or not (one pair lost).
func window(rate float64, ok bool) windowResult {
	t0 := time.Unix(1000, 0)
	w := windowResult{asked: rate, achieved: rate, want: 900, got: 900, p50: 3 * time.Millisecond, p99All: 20 * time.Millisecond,
		firstP50: 3 * time.Millisecond, finalP50: 3 * time.Millisecond, lastSend: t0, lastArrival: t0.Add(50 * time.Millisecond)}
	if !ok {
		w.got = 899
	}
	return w
}

func TestSustained(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		change func(w *windowResult)
		ok     bool
		why    string
	}{
		{"every pair, fast", func(*windowResult) {}, true, ""},
		{"the sender fell behind", func(w *windowResult) { w.achieved = 0.8 * w.asked }, false, "the sender managed 80 of 100"},
		{"a pair lost", func(w *windowResult) { w.got-- }, false, "99.9% delivered"},
		{"the last pair late", func(w *windowResult) { w.lastArrival = w.lastSend.Add(3 * time.Second) }, false, "3.0 s after the last send"},
		{"p99 a second", func(w *windowResult) { w.p99All = time.Second }, false, "p99 1000 ms"},
		{"p99 never", func(w *windowResult) { w.p99All = never }, false, "p99"},
		{"latency grew", func(w *windowResult) { w.firstP50, w.finalP50 = 3*ms, 17*ms }, false, "p50 grew from 3.0 ms"},
		{"latency grew within the slack", func(w *windowResult) { w.firstP50, w.finalP50 = 3*ms, 16*ms }, true, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := window(100, true)
			tt.change(&w)
			ok, why := sustained(w)
			if ok != tt.ok || !strings.Contains(why, tt.why) {
				t.Fatalf("sustained = %v, %q; want %v, %q", ok, why, tt.ok, tt.why)
			}
		})
	}
}

func TestSearchSaturation(t *testing.T) {
	tests := []struct {
		name            string
		limit           float64 // the fake sustains rates up to this
		first           float64
		maxSteps        int
		rates           []float64 // the rates tried, in order
		sustain, failed float64
	}{
		{"doubles, then bisects", 300, 50, 5, []float64{50, 100, 200, 400, 283}, 283, 400},
		{"halves from a first window that failed", 20, 50, 5, []float64{50, 25, 12, 17, 21}, 17, 21},
		{"stops at the highest rate searched", 1e9, 50, 20, []float64{50, 100, 200, 400, 800, 1600, 3200}, 3200, 0},
		{"stops at the lowest rate searched", 1, 50, 20, []float64{50, 25, 12, 6, 3}, 0, 3},
		{"stops once the bracket is close", 110, 100, 20, []float64{100, 200, 141, 119}, 100, 119},
		{"one step: the measured window only", 300, 50, 1, []float64{50}, 50, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var tried []float64
			sat, err := searchSaturation(window(tt.first, tt.first <= tt.limit), tt.maxSteps, func(rate float64) (windowResult, error) {
				tried = append(tried, rate)
				return window(rate, rate <= tt.limit), nil
			})
			if err != nil {
				t.Fatal(err)
			}
			var rates []float64
			for _, s := range sat.Steps {
				rates = append(rates, s.Rate)
			}
			if !equalFloats(rates, tt.rates) || len(tried) != len(tt.rates)-1 {
				t.Fatalf("rates %v (stepped %v), want %v", rates, tried, tt.rates)
			}
			if sat.Sustained != tt.sustain || sat.Failed != tt.failed {
				t.Fatalf("sustained %v, failed %v; want %v, %v", sat.Sustained, sat.Failed, tt.sustain, tt.failed)
			}
		})
	}
	boom := errors.New("boom")
	if _, err := searchSaturation(window(50, true), 5, func(float64) (windowResult, error) { return windowResult{}, boom }); !errors.Is(err, boom) {
		t.Fatalf("a step's error: %v", err)
	}
}

func equalFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSpread(t *testing.T) {
	tests := []struct {
		xs   []float64
		want Spread
	}{
		{[]float64{5, 1, 3}, Spread{3, 1, 5}},
		{[]float64{4, 1, 3, 2}, Spread{2.5, 1, 4}},
		{[]float64{7}, Spread{7, 7, 7}},
		{nil, Spread{}},
	}
	for _, tt := range tests {
		if got := spreadOf(tt.xs); got != tt.want {
			t.Errorf("spreadOf(%v) = %+v, want %+v", tt.xs, got, tt.want)
		}
	}
}

// TestSizePointVerdict: latency is judged only where signed raw left the
// machine under half busy; CPU per message always.
func TestSizePointVerdict(t *testing.T) {
	tests := []struct {
		name        string
		busy        float64 // during every window
		oursP50     time.Duration
		judged, met bool
		why         string
	}{
		{"quiet, met", 0.3, 4 * time.Millisecond, true, true, ""},
		{"quiet, missed", 0.3, 5 * time.Millisecond, true, false, ""},
		{"busy: no verdict", 0.5, 4 * time.Millisecond, false, false, "busy 50% during signed raw"},
		{"busy unknown: no verdict", -1, 4 * time.Millisecond, false, false, "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := func(p50 time.Duration, cpu time.Duration) []windowResult {
				w := windowResult{want: 100, got: 100, p50: p50, use: usage{cpu: 100 * cpu, busy: tt.busy}}
				return []windowResult{w, w, w}
			}
			c := compared{ours: run(tt.oursP50, 600*time.Microsecond), signed: run(time.Duration(3.5*float64(time.Millisecond)), 500*time.Microsecond),
				raw: run(3*time.Millisecond, 400*time.Microsecond)}
			p := sizePoint(10, c, 1.25, 1.25)
			if p.LatencyJudged != tt.judged || (p.LatencyMet != nil) != tt.judged || (tt.judged && *p.LatencyMet != tt.met) {
				t.Fatalf("judged %v, met %v; want %v, %v", p.LatencyJudged, p.LatencyMet, tt.judged, tt.met)
			}
			if !strings.Contains(p.noVerdict(), tt.why) || (tt.why == "") != (p.noVerdict() == "") {
				t.Fatalf("no verdict %q, want %q", p.noVerdict(), tt.why)
			}
			if p.CPUMet == nil || !*p.CPUMet || math.Abs(p.CPURatio-1.2) > 1e-9 {
				t.Fatalf("CPU ratio %v met %v, want 1.2 met", p.CPURatio, p.CPUMet)
			}
			lat := sizeFigures("", p)[2]
			if lat.Name != "latency p50" || (lat.NoVerdict == "") != tt.judged || (lat.Met != nil) != tt.judged {
				t.Fatalf("latency figure %+v", lat)
			}
		})
	}
}

// TestSaturationJSON: a step whose p99 never came (some pair never
// arrived) is carried as null and read back as +Inf.
func TestSaturationJSON(t *testing.T) {
	in := Saturation{Sustained: 100, Failed: 200, Steps: []SatStep{{Rate: 100, P99: 12.5}, {Rate: 200, P99: jsonFloat(math.Inf(1))}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"p99_ms":null`) || !strings.Contains(string(b), `"p99_ms":12.5`) {
		t.Fatalf("JSON %s", b)
	}
	var out Saturation
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if out.Steps[0].P99 != 12.5 || !math.IsInf(float64(out.Steps[1].P99), 1) {
		t.Fatalf("back %+v", out.Steps)
	}
}
