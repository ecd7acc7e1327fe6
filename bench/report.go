package bench

import (
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Report is the result of a run: the machine, the mode and every scenario's
// figures. It encodes to JSON as the `backchannel bench` report.
type Report struct {
	Started time.Time `json:"started"`
	Seconds float64   `json:"seconds"`
	Mode    string    `json:"mode"` // "full", "quick" or "smoke"
	// Runs is how often each room and group size ran (--runs).
	Runs      int              `json:"runs"`
	Machine   Machine          `json:"machine"`
	Scenarios []ScenarioResult `json:"scenarios"`
}

// Machine says where a report was measured.
type Machine struct {
	CPU       string `json:"cpu"` // lscpu's model name
	Cores     int    `json:"cores"`
	OS        string `json:"os"`
	Arch      string `json:"arch"`
	GoVersion string `json:"go_version"`
	Race      bool   `json:"race"` // built with -race: timings are not comparable
	// LoadStart and LoadEnd are /proc/loadavg's 1-minute load when the run
	// started and ended: other work on the machine skews the timings.
	LoadStart string `json:"load_start,omitempty"`
	LoadEnd   string `json:"load_end,omitempty"`
}

// Status of a scenario.
const (
	StatusOK      = "ok"      // measured
	StatusError   = "error"   // failed: see Error
	StatusNotYet  = "not yet" // the feature it measures has not landed
	StatusSkipped = "skipped" // cannot run here (see Note)
)

// ScenarioResult is one scenario's outcome.
type ScenarioResult struct {
	Name    string   `json:"name"`
	Title   string   `json:"title"`
	Status  string   `json:"status"`
	Error   string   `json:"error,omitempty"`
	Note    string   `json:"note,omitempty"`
	Seconds float64  `json:"seconds"`
	Figures []Figure `json:"figures"`
	// Faults is set by fault scenarios.
	Faults *Faults `json:"faults,omitempty"`
	// Sizes holds one point per room size (the rooms scenario; the plot's)
	// or group size (the groups scenario): each side over the runs.
	Sizes []SizePoint `json:"sizes,omitempty"`
	// Audience holds one entry per room (size and mode) of the audience
	// scenario.
	Audience []AudiencePoint `json:"audience,omitempty"`
	// Mailbox holds one entry per run of the mailbox scenario.
	Mailbox []MailboxRun `json:"mailbox_runs,omitempty"`
}

// MailboxRun is one away-and-back cycle of the mailbox scenario: times
// from just before the recipient's node.New, in ms, and the same bytes'
// floors measured right after it.
type MailboxRun struct {
	Messages      int     `json:"messages"`
	HeldItems     int     `json:"held_items"` // what the helper held for the recipient
	HeldBytes     int64   `json:"held_bytes"`
	LastCommitMs  float64 `json:"last_commit_ms"`
	FirstCommitMs float64 `json:"first_commit_ms"`
	// DrainBeginsMs and FirstFetchMs are the times of the recipient's
	// first "mailbox: draining" and "mailbox: drained" log lines.
	DrainBeginsMs float64 `json:"drain_begins_ms"`
	FirstFetchMs  float64 `json:"first_fetch_ms"`
	RawStreamMs   float64 `json:"raw_stream_ms"`
	RawBadgerMs   float64 `json:"raw_badger_ms"`
}

// Faults counts a fault scenario's messages. Lost and Duplicated must be 0.
type Faults struct {
	Sent       int `json:"sent"`
	Delivered  int `json:"delivered"`
	Lost       int `json:"lost"`
	Duplicated int `json:"duplicated"`
}

// Clean reports whether nothing was lost or duplicated.
func (f Faults) Clean() bool { return f.Lost == 0 && f.Duplicated == 0 }

// SizePoint is one room (or group) size compared over the runs: ours
// beside signed raw GossipSub (the baseline) and raw GossipSub (the floor).
type SizePoint struct {
	Nodes     int         `json:"nodes"`
	Runs      int         `json:"runs"`
	Ours      SideSummary `json:"ours"`
	SignedRaw SideSummary `json:"signed_raw"`
	Raw       SideSummary `json:"raw"`
	// LatencyRatio is ours' median p50 over signed raw's; LatencyJudged
	// tells whether it was judged (signed raw's median busy share under
	// BusyLimit) and LatencyMet whether it met LatencyTarget.
	LatencyRatio  float64 `json:"latency_ratio"`
	LatencyTarget float64 `json:"latency_target"`
	LatencyJudged bool    `json:"latency_judged"`
	LatencyMet    *bool   `json:"latency_met,omitempty"`
	// CPURatio is ours' median CPU per delivered message over signed raw's.
	CPURatio  float64 `json:"cpu_ratio"`
	CPUTarget float64 `json:"cpu_target"`
	CPUMet    *bool   `json:"cpu_met,omitempty"`
	// Restarts counts sides whose start failed once and was tried again.
	Restarts int `json:"restarts,omitempty"`
}

// BusyLimit is the machine's busy share (over all cores) under which signed
// raw GossipSub must run for a latency verdict: above it the cores, not the
// protocol, make the latency.
const BusyLimit = 0.5

// SideSummary is one side of a size over its runs: medians with the
// smallest and largest run, and each run.
type SideSummary struct {
	P50 Spread `json:"p50_ms"`
	P99 Spread `json:"p99_ms"`
	// CPU is the process's CPU time per delivered (line, receiver) pair, µs.
	CPU Spread `json:"cpu_us_per_msg"`
	// Busy is the machine's busy share during the window (1 - idle/total
	// over all cores, from /proc/stat), 0 to 1; Own is this process's.
	Busy      Spread `json:"busy"`
	Own       Spread `json:"own_busy"`
	Delivered Spread `json:"delivered_pct"`
	// Rate is the lines a second the sender achieved (50 asked).
	Rate Spread `json:"rate"`
	// Send is the p50 of the sender's call for one line, ms: ours signs,
	// stores its own line and queues it for GossipSub (RoomSay, GroupSend:
	// encrypts too); raw publishes (signed raw signs first). It is where
	// every line's latency starts.
	Send       Spread      `json:"send_ms"`
	Duplicated int         `json:"duplicated"`
	EachRun    []RunPoint  `json:"each_run"`
	Saturation *Saturation `json:"saturation,omitempty"`
}

// RunPoint is one run of one side.
type RunPoint struct {
	P50       float64 `json:"p50_ms"`
	P99       float64 `json:"p99_ms"`
	CPU       float64 `json:"cpu_us_per_msg"`
	Busy      float64 `json:"busy"`
	Own       float64 `json:"own_busy"`
	Delivered float64 `json:"delivered_pct"`
	Rate      float64 `json:"rate"`
	Send      float64 `json:"send_ms"`
	Sent      int     `json:"sent"` // (line, receiver) pairs
	Got       int     `json:"got"`
	Dups      int     `json:"duplicated"`
}

// Spread is a figure over runs: the median, the smallest and the largest.
type Spread struct {
	Median float64 `json:"median"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Saturation is the outcome of a saturation search: the highest line rate
// sustained and the lowest that was not, in lines a second (0: none found
// within the search), with each step.
type Saturation struct {
	Sustained  float64   `json:"sustained"`
	Failed     float64   `json:"failed,omitempty"`
	Window     float64   `json:"window_s"`
	Definition string    `json:"definition"`
	Steps      []SatStep `json:"steps"`
}

// SatStep is one window of a saturation search.
type SatStep struct {
	Rate      float64 `json:"rate"`
	Achieved  float64 `json:"achieved"`
	Delivered float64 `json:"delivered_pct"`
	P50       float64 `json:"p50_ms"`
	// P99 is over every pair the window should have delivered (+Inf in
	// the table, null in JSON, when some never arrived).
	P99       jsonFloat `json:"p99_ms"`
	Sustained bool      `json:"sustained"`
	Why       string    `json:"why,omitempty"`
}

// Figure is one measured quantity, beside its baseline when there is one.
type Figure struct {
	Name  string  `json:"name"`
	Unit  string  `json:"unit"`
	Value float64 `json:"value"`
	// Range is the smallest and largest run's value when Value is the
	// median of several runs.
	Range *Range `json:"range,omitempty"`
	// Baseline is the raw go-libp2p (or raw Badger) figure measured in the
	// same run; BaselineName says what it is.
	Baseline      *float64 `json:"baseline,omitempty"`
	BaselineName  string   `json:"baseline_name,omitempty"`
	BaselineRange *Range   `json:"baseline_range,omitempty"`
	// Floor is a second, lower baseline shown beside the first (unsigned
	// raw GossipSub beside signed raw), without a ratio.
	Floor      *float64 `json:"floor,omitempty"`
	FloorName  string   `json:"floor_name,omitempty"`
	FloorRange *Range   `json:"floor_range,omitempty"`
	// Ratio is Value / Baseline.
	Ratio  *float64 `json:"ratio,omitempty"`
	Target *Target  `json:"target,omitempty"`
	// Met tells whether Target is met; nil without a target, or when the
	// target is not judged (NoVerdict says why).
	Met       *bool  `json:"met,omitempty"`
	NoVerdict string `json:"no_verdict,omitempty"`
	// Missing, when not empty, says why there is no value ("not yet").
	Missing string `json:"missing,omitempty"`
}

// Range is the smallest and largest of a figure's runs.
type Range struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// Target is a goal for a figure: its value (or its ratio to the baseline)
// compared with Limit.
type Target struct {
	Of    string  `json:"of"` // "value" or "ratio"
	Op    string  `json:"op"` // "<=", ">=" or "=="
	Limit float64 `json:"limit"`
}

// String is the target as the table shows it.
func (t Target) String() string {
	op := map[string]string{"<=": "≤", ">=": "≥", "==": "="}[t.Op]
	if t.Of == "ratio" {
		return fmt.Sprintf("%s %s× baseline", op, num(t.Limit))
	}
	return fmt.Sprintf("%s %s", op, num(t.Limit))
}

func (t Target) met(value, ratio float64, hasRatio bool) (bool, bool) {
	v := value
	if t.Of == "ratio" {
		if !hasRatio {
			return false, false
		}
		v = ratio
	}
	switch t.Op {
	case "<=":
		return v <= t.Limit, true
	case ">=":
		return v >= t.Limit, true
	case "==":
		return v == t.Limit, true
	}
	return false, false
}

// Constructors of targets.
func atMost(x float64) *Target       { return &Target{Of: "value", Op: "<=", Limit: x} }
func atLeast(x float64) *Target      { return &Target{Of: "value", Op: ">=", Limit: x} }
func exactly(x float64) *Target      { return &Target{Of: "value", Op: "==", Limit: x} }
func ratioAtMost(x float64) *Target  { return &Target{Of: "ratio", Op: "<=", Limit: x} }
func ratioAtLeast(x float64) *Target { return &Target{Of: "ratio", Op: ">=", Limit: x} }

// fig makes a figure without a baseline.
func fig(name, unit string, value float64, target *Target) Figure {
	f := Figure{Name: name, Unit: unit, Value: value, Target: target}
	f.check()
	return f
}

// figVs makes a figure beside its baseline.
func figVs(name, unit string, value, baseline float64, baselineName string, target *Target) Figure {
	f := Figure{Name: name, Unit: unit, Value: value, Baseline: &baseline, BaselineName: baselineName, Target: target}
	if baseline != 0 && !math.IsNaN(baseline) {
		r := value / baseline
		f.Ratio = &r
	}
	f.check()
	return f
}

// missing makes a figure that could not be measured, and says why.
func missing(name, unit, why string, target *Target) Figure {
	return Figure{Name: name, Unit: unit, Missing: why, Target: target}
}

func (f *Figure) check() {
	if f.Target == nil {
		return
	}
	var r float64
	if f.Ratio != nil {
		r = *f.Ratio
	}
	if ok, known := f.Target.met(f.Value, r, f.Ratio != nil); known {
		f.Met = &ok
	}
}

// faultFigures turns fault counts into figures: lost and duplicated must be 0.
func faultFigures(f Faults) []Figure {
	return []Figure{
		fig("sent", "msgs", float64(f.Sent), nil),
		fig("delivered", "msgs", float64(f.Delivered), exactly(float64(f.Sent))),
		fig("lost", "msgs", float64(f.Lost), exactly(0)),
		fig("duplicated", "msgs", float64(f.Duplicated), exactly(0)),
	}
}

// Problems lists what makes a run fail regardless of timings: scenarios that
// ended in an error and fault scenarios that lost or duplicated messages.
// Timing targets missed are not problems.
func (r *Report) Problems() []string {
	var out []string
	for _, s := range r.Scenarios {
		if s.Status == StatusError {
			out = append(out, fmt.Sprintf("%s: %s", s.Name, s.Error))
		}
		if s.Faults != nil && !s.Faults.Clean() {
			out = append(out, fmt.Sprintf("%s: %d lost, %d duplicated of %d sent", s.Name, s.Faults.Lost, s.Faults.Duplicated, s.Faults.Sent))
		}
	}
	return out
}

// Scenario returns the named scenario's result, if the run had it.
func (r *Report) Scenario(name string) (ScenarioResult, bool) {
	for _, s := range r.Scenarios {
		if s.Name == name {
			return s, true
		}
	}
	return ScenarioResult{}, false
}

// WriteTable prints the report as a table: one line per figure, with its
// baseline, its floor (a second baseline, without a ratio), the ratio to
// the baseline, the target and whether it is met. A figure that is a median
// over runs shows the smallest and largest run in brackets.
func (r *Report) WriteTable(w io.Writer) error {
	fmt.Fprintf(w, "Backchannel bench (%s), %s, %d cores, %s, %.0f s", r.Mode, r.Machine.CPU, r.Machine.Cores, r.Machine.GoVersion, r.Seconds)
	if r.Runs > 0 {
		fmt.Fprintf(w, ", %d run(s) per room and group size", r.Runs)
	}
	if r.Machine.LoadStart != "" {
		fmt.Fprintf(w, ", 1-minute load %s at start, %s at end", r.Machine.LoadStart, r.Machine.LoadEnd)
	}
	if r.Machine.Race {
		fmt.Fprint(w, ", built with -race: timings not comparable")
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tfigure\tvalue (min–max)\tbaseline\tfloor\tratio\ttarget\tmet?")
	for _, s := range r.Scenarios {
		switch s.Status {
		case StatusError:
			fmt.Fprintf(tw, "%s\tERROR (below)\t\t\t\t\t\t\n", s.Name)
		case StatusSkipped:
			fmt.Fprintf(tw, "%s\tskipped: %s\t\t\t\t\t\t\n", s.Name, oneLine(s.Note))
		}
		for _, f := range s.Figures {
			value, base, floor, ratio, target, met := "", "", "", "", "", ""
			if f.Missing != "" {
				value = f.Missing
			} else {
				value = withRange(f.Value, f.Range, f.Unit)
			}
			if f.Baseline != nil {
				base = withRange(*f.Baseline, f.BaselineRange, f.Unit)
			}
			if f.Floor != nil {
				floor = withRange(*f.Floor, f.FloorRange, f.Unit)
			}
			if f.Ratio != nil {
				ratio = num(*f.Ratio) + "×"
			}
			if f.Target != nil {
				target = f.Target.String()
				if f.Target.Of == "value" {
					target += " " + f.Unit
				}
			}
			switch {
			case f.NoVerdict != "":
				met = f.NoVerdict
			case f.Met == nil && f.Target != nil:
				met = "-"
			case f.Met != nil && *f.Met:
				met = "yes"
			case f.Met != nil:
				met = "NO"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.Name, f.Name, value, base, floor, ratio, target, met)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range r.Scenarios {
		if b := baselineNames(s.Figures); b != "" {
			fmt.Fprintf(w, "baselines, %s: %s\n", s.Name, b)
		}
	}
	for _, s := range r.Scenarios {
		if s.Status == StatusError {
			fmt.Fprintf(w, "ERROR, %s: %s\n", s.Name, oneLine(s.Error))
		}
		if s.Note != "" && s.Status != StatusSkipped {
			fmt.Fprintf(w, "note, %s: %s\n", s.Name, s.Note)
		}
	}
	return nil
}

// withRange prints a value with its unit, and its range when it has one.
func withRange(v float64, r *Range, unit string) string {
	out := num(v) + " " + unit
	if r != nil {
		out += " (" + num(r.Min) + "–" + num(r.Max) + ")"
	}
	return out
}

// baselineNames says what the baseline and floor columns hold for a
// scenario's figures: each name once, in order.
func baselineNames(figs []Figure) string {
	var bases, floors []string
	for _, f := range figs {
		if f.Baseline != nil && f.BaselineName != "" && !slices.Contains(bases, f.BaselineName) {
			bases = append(bases, f.BaselineName)
		}
		if f.Floor != nil && f.FloorName != "" && !slices.Contains(floors, f.FloorName) {
			floors = append(floors, f.FloorName)
		}
	}
	out := strings.Join(bases, "; ")
	if len(floors) > 0 {
		out += "; floor column: " + strings.Join(floors, "; ")
	}
	return out
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	if len(s) > 400 {
		s = s[:397] + "..."
	}
	return s
}

// num prints x with three significant digits, and integers above 1,000
// whole, with thousands separators.
func num(x float64) string {
	switch {
	case math.IsNaN(x) || math.IsInf(x, 0):
		return strconv.FormatFloat(x, 'f', -1, 64)
	case math.Abs(x) >= 1000:
		return thousands(int64(math.Round(x)))
	case x == math.Trunc(x):
		return strconv.FormatInt(int64(x), 10)
	}
	return strconv.FormatFloat(x, 'g', 3, 64)
}

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
