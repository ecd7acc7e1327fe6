package bench

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
)

// median is the median of xs (the mean of the two middle values for an
// even count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// spreadOf is the median, smallest and largest of xs.
func spreadOf(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	return Spread{Median: median(xs), Min: slices.Min(xs), Max: slices.Max(xs)}
}

// summarize turns a side's windows, one a run, into its summary.
func summarize(ws []windowResult, sat *Saturation) SideSummary {
	var p50, p99, cpu, busy, own, deliv, rate, send []float64
	s := SideSummary{Saturation: sat}
	for _, w := range ws {
		r := RunPoint{P50: ms(w.p50), P99: ms(w.p99), CPU: µs(w.cpuPerMessage()), Busy: w.use.busy, Own: w.use.own,
			Delivered: 100 * w.deliveredShare(), Rate: w.achieved, Send: ms(w.send), Sent: w.want, Got: w.got, Dups: w.dups}
		s.EachRun = append(s.EachRun, r)
		send = append(send, r.Send)
		p50, p99, cpu, own, deliv, rate = append(p50, r.P50), append(p99, r.P99), append(cpu, r.CPU), append(own, r.Own), append(deliv, r.Delivered), append(rate, r.Rate)
		if r.Busy >= 0 {
			busy = append(busy, r.Busy)
		}
		s.Duplicated += w.dups
	}
	s.P50, s.P99, s.CPU, s.Own, s.Delivered, s.Rate = spreadOf(p50), spreadOf(p99), spreadOf(cpu), spreadOf(own), spreadOf(deliv), spreadOf(rate)
	s.Send = spreadOf(send)
	s.Busy = Spread{-1, -1, -1} // unknown without /proc/stat
	if len(busy) == len(ws) {
		s.Busy = spreadOf(busy)
	}
	return s
}

// sizePoint sets ours beside signed raw and raw for n nodes and judges the
// targets: latency (only where signed raw left the machine under BusyLimit
// busy) and CPU per message.
func sizePoint(n int, c compared, latTarget, cpuTarget float64) SizePoint {
	p := SizePoint{Nodes: n, Runs: len(c.ours), Ours: summarize(c.ours, c.oursSat), SignedRaw: summarize(c.signed, c.signSat),
		Raw: summarize(c.raw, nil), LatencyTarget: latTarget, CPUTarget: cpuTarget, Restarts: c.restarts}
	if b := p.SignedRaw.P50.Median; b > 0 {
		p.LatencyRatio = p.Ours.P50.Median / b
	}
	if b := p.SignedRaw.CPU.Median; b > 0 {
		p.CPURatio = p.Ours.CPU.Median / b
		met := p.CPURatio <= cpuTarget
		p.CPUMet = &met
	}
	busy := p.SignedRaw.Busy.Median
	p.LatencyJudged = busy >= 0 && busy < BusyLimit && p.LatencyRatio > 0
	if p.LatencyJudged {
		met := p.LatencyRatio <= latTarget
		p.LatencyMet = &met
	}
	return p
}

// noVerdict says why a size's latency was not judged ("" if it was).
func (p SizePoint) noVerdict() string {
	switch busy := p.SignedRaw.Busy.Median; {
	case p.LatencyJudged:
		return ""
	case busy < 0:
		return "no verdict: the machine's busy share is unknown here (no /proc/stat)"
	case busy >= BusyLimit:
		return fmt.Sprintf("no verdict: busy %.0f%% during signed raw (judged under %.0f%%)", 100*busy, 100*BusyLimit)
	}
	return "no verdict: signed raw has no p50"
}

// sideFig is a figure of ours (the value) beside signed raw (the baseline)
// and raw (the floor), each a median over runs with its range; ratio sets
// the ratio to signed raw.
func sideFig(name, unit string, ours, signed, raw Spread, runs int, ratio bool, target *Target) Figure {
	f := Figure{Name: name, Unit: unit, Value: ours.Median, Target: target,
		Baseline: ptrTo(signed.Median), BaselineName: signedBase, Floor: ptrTo(raw.Median), FloorName: rawBase}
	if runs > 1 {
		f.Range, f.BaselineRange, f.FloorRange = rangeOf(ours), rangeOf(signed), rangeOf(raw)
	}
	if ratio && signed.Median != 0 && !math.IsNaN(signed.Median) {
		r := ours.Median / signed.Median
		f.Ratio = &r
	}
	f.check()
	return f
}

func rangeOf(s Spread) *Range { return &Range{Min: s.Min, Max: s.Max} }

func ptrTo[T any](v T) *T { return &v }

// pct is a spread of shares (0 to 1) in percent.
func pct(s Spread) Spread { return Spread{100 * s.Median, 100 * s.Min, 100 * s.Max} }

// sizeFigures are a size's figures for the table, each prefixed with pre.
func sizeFigures(pre string, p SizePoint) []Figure {
	o, s, r := p.Ours, p.SignedRaw, p.Raw
	worst := func(x Spread) Spread { return Spread{x.Min, x.Min, x.Min} }
	delivered := sideFig(pre+"delivered (worst run)", "%", worst(o.Delivered), worst(s.Delivered), worst(r.Delivered), 1, false, exactly(100))
	lat := sideFig(pre+"latency p50", "ms", o.P50, s.P50, r.P50, p.Runs, true, ratioAtMost(p.LatencyTarget))
	if why := p.noVerdict(); why != "" {
		lat.Met, lat.NoVerdict = nil, why
	}
	figs := []Figure{
		delivered,
		fig(pre+"duplicated (all runs)", "msgs", float64(o.Duplicated), exactly(0)),
		lat,
		sideFig(pre+"latency p99", "ms", o.P99, s.P99, r.P99, p.Runs, true, nil),
		sideFig(pre+"CPU per message", "µs", o.CPU, s.CPU, r.CPU, p.Runs, true, ratioAtMost(p.CPUTarget)),
		sideFig(pre+"machine busy", "%", pct(o.Busy), pct(s.Busy), pct(r.Busy), p.Runs, false, nil),
		sideFig(pre+"lines sent a second (asked: 50)", "msg/s", o.Rate, s.Rate, r.Rate, p.Runs, false, nil),
		sideFig(pre+"stage: the sender's call per line, p50 (ours: sign, store, queue; raw: sign, publish)", "ms", o.Send, s.Send, r.Send, p.Runs, true, nil),
	}
	if o.Busy.Median < 0 {
		figs[5] = missing(pre+"machine busy", "%", "unknown (no /proc/stat)", nil)
	}
	return append(figs, saturationFigures(pre, o.Saturation, s.Saturation)...)
}

// saturationFigures set ours' saturation point beside signed raw's.
func saturationFigures(pre string, ours, signed *Saturation) []Figure {
	const unit = "msg/s"
	if ours == nil || signed == nil {
		return []Figure{missing(pre+"saturation", unit, "not searched in this mode", nil)}
	}
	found := func(name string, v, base float64, why string) Figure {
		if v == 0 {
			return missing(name, unit, why, nil)
		}
		f := fig(name, unit, v, nil)
		if base > 0 {
			f = figVs(name, unit, v, base, signedBase, nil)
		}
		return f
	}
	return []Figure{
		found(pre+"saturation: highest rate sustained", ours.Sustained, signed.Sustained, fmt.Sprintf("none down to %s/s", num(ours.lowest()))),
		found(pre+"saturation: lowest rate that failed", ours.Failed, signed.Failed, fmt.Sprintf("none up to %s/s", num(ours.highest()))),
	}
}

// jsonFloat is a float64 that JSON carries as null when it is not finite
// (JSON has no infinity), and reads back from null as +Inf.
type jsonFloat float64

func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsInf(float64(f), 0) || math.IsNaN(float64(f)) {
		return []byte("null"), nil
	}
	return strconv.AppendFloat(nil, float64(f), 'g', -1, 64), nil
}

func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.Inf(1))
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jsonFloat(v)
	return nil
}

// lowest and highest are the lowest and highest rates the search tried.
func (s *Saturation) lowest() float64 {
	lo := math.Inf(1)
	for _, st := range s.Steps {
		lo = min(lo, st.Rate)
	}
	return lo
}

func (s *Saturation) highest() float64 {
	hi := 0.0
	for _, st := range s.Steps {
		hi = max(hi, st.Rate)
	}
	return hi
}
