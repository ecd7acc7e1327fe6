package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"
)

// The three sides of a room or group comparison.
const (
	sideOurs   = "ours"
	sideSigned = "signed raw"
	sideRaw    = "raw"
)

// live is one side of a comparison, started and its mesh settled: a sender
// and receivers that time every line.
type live interface {
	// reset starts a new window: what arrives of earlier lines is left out.
	reset()
	// send sends the window's line i and marks it sent.
	send(ctx context.Context, i int) error
	// receivers is how many nodes must receive each line.
	receivers() int
	// timed is how many (line, receiver) arrivals of the window were
	// timed so far: the cheap check.
	timed() int
	// delivered counts the window's (line, receiver) pairs delivered, by
	// the side's truth (our nodes' room states or stores; raw GossipSub
	// has no other truth than its arrivals).
	delivered() (int, error)
	// times returns the window's arrivals.
	times() windowTimes
	close() error
}

// windowResult is what one window of lines measured on one side.
type windowResult struct {
	lines     int
	asked     float64 // lines a second asked of the sender
	achieved  float64 // lines a second it sent
	want, got int     // (line, receiver) pairs
	p50, p99  time.Duration
	// send is the p50 of the sender's call for a line (live.send).
	send time.Duration
	// firstP50 and finalP50 are the p50 of the window's first and last
	// third of lines: a latency that grows over the window is a queue
	// building up.
	firstP50, finalP50 time.Duration
	// p99All is the p99 over every pair the window should have delivered,
	// those never timed counting as infinitely late.
	p99All   time.Duration
	lastSend time.Time
	// lastArrival is the latest timed arrival.
	lastArrival time.Time
	dups        int
	use         usage
}

// delivered is the fraction of pairs delivered.
func (w windowResult) deliveredShare() float64 {
	if w.want == 0 {
		return 0
	}
	return float64(w.got) / float64(w.want)
}

// cpuPerMessage is the process's CPU time over the window per delivered
// (line, receiver) pair.
func (w windowResult) cpuPerMessage() time.Duration {
	return w.use.cpu / time.Duration(max(1, w.got))
}

// never stands for a latency that was not measured: a pair never timed.
const never = time.Duration(math.MaxInt64)

// measureWindow sends lines at rate from s's sender, paced from the start
// (a late line is sent at once, none is skipped), then waits up to wait for
// every (line, receiver) pair: timed arrivals are the cheap check, the
// side's truth is read now and then. The window's CPU and the machine's busy
// share run from the first send to the end of the wait. Only an error that
// stops the run is returned; a pair not delivered is in the result.
func measureWindow(ctx context.Context, s live, lines int, rate float64, wait time.Duration) (w windowResult, err error) {
	s.reset()
	w.lines, w.asked = lines, rate
	w.want = lines * s.receivers()
	calls := make([]time.Duration, 0, lines)
	u0 := markUsage()
	start := u0.at
	for i := range lines {
		next := start.Add(time.Duration(float64(i+1) / rate * float64(time.Second)))
		if d := time.Until(next); d > 0 {
			if err := sleep(ctx, d); err != nil {
				return w, err
			}
		}
		t0 := time.Now()
		if err := s.send(ctx, i); err != nil {
			return w, fmt.Errorf("line %d: %w", i, err)
		}
		calls = append(calls, time.Since(t0))
	}
	w.send = percentile(calls, .5)
	w.lastSend = time.Now()
	w.achieved = float64(lines) / w.lastSend.Sub(start).Seconds()
	polls := 0
	err = waitFor(ctx, "every line at every receiver", wait, 20*time.Millisecond, func() (bool, error) {
		polls++
		if s.timed() < w.want && polls%25 != 0 {
			return false, nil
		}
		var err error
		w.got, err = s.delivered()
		return w.got >= w.want, err
	})
	w.use = usageSince(u0)
	if err != nil && !errors.Is(err, ErrTimeout) {
		return w, err
	}
	if w.got < w.want { // the last check may be older than the last arrivals
		if w.got, err = s.delivered(); err != nil {
			return w, err
		}
	}
	t := s.times()
	w.p50, w.p99 = percentile(t.lat, .5), percentile(t.lat, .99)
	w.firstP50, w.finalP50 = percentile(t.first, .5), percentile(t.final, .5)
	w.lastArrival, w.dups = t.last, t.dups
	all := t.lat
	for range max(0, w.want-len(t.lat)) {
		all = append(all, never)
	}
	w.p99All = percentile(all, .99)
	return w, nil
}

// Saturation: a rate is sustained when a window of lines sent at that rate
// is delivered whole and in bounded time (see sustained).
const (
	// satGrace is how long after a window's last send every pair must have
	// arrived.
	satGrace = 2 * time.Second
	// satP99 bounds the p99 over every pair of the window.
	satP99 = time.Second
	// satGrowth and satSlack: latency grows when the p50 of the window's
	// last third of lines exceeds satGrowth times that of its first third
	// plus satSlack.
	satGrowth = 2
	satSlack  = 10 * time.Millisecond
	// satKeep is the share of the asked rate the sender must achieve.
	satKeep = 0.9
	// satMinRate and satMaxRate bound the search, in lines a second.
	satMinRate = 3
	satMaxRate = 3200
	// satMinLines is the fewest lines a window has.
	satMinLines = 20
	// satClose: the search stops when the rate that failed is within this
	// factor of the rate sustained.
	satClose = 1.25
)

// sustained reports whether window w sustained its rate, and if not why:
// the sender kept at least satKeep of the rate, every pair arrived within
// satGrace of the last send, the p99 over every pair is under satP99, and
// the latency did not grow over the window.
func sustained(w windowResult) (bool, string) {
	switch {
	case w.achieved < satKeep*w.asked:
		return false, fmt.Sprintf("the sender managed %.0f of %.0f lines a second", w.achieved, w.asked)
	case w.got < w.want:
		return false, fmt.Sprintf("%.1f%% delivered", 100*w.deliveredShare())
	case w.lastArrival.Sub(w.lastSend) > satGrace:
		return false, fmt.Sprintf("the last arrival came %.1f s after the last send", w.lastArrival.Sub(w.lastSend).Seconds())
	case w.p99All >= satP99:
		return false, fmt.Sprintf("p99 %.0f ms", ms(w.p99All))
	case w.finalP50 > satGrowth*w.firstP50+satSlack:
		return false, fmt.Sprintf("p50 grew from %.1f ms (first third of lines) to %.1f ms (last third)", ms(w.firstP50), ms(w.finalP50))
	}
	return true, ""
}

// satSearch is how a saturation search goes.
type satSearch struct {
	window   time.Duration // each step's window of lines
	maxSteps int           // steps, the first (the measured window) included
	quiet    time.Duration // the most a step waits for the one before to stop arriving
}

// saturate searches the highest line rate s sustains, from first, the
// window already measured, one short window a step (see searchSaturation).
func saturate(ctx context.Context, e *env, label string, s live, first windowResult, ss satSearch) (*Saturation, error) {
	sat, err := searchSaturation(first, ss.maxSteps, func(rate float64) (windowResult, error) {
		// Let the step before drain: until its arrivals stop.
		if err := quietDown(ctx, s, ss.quiet); err != nil {
			return windowResult{}, err
		}
		lines := max(satMinLines, int(rate*ss.window.Seconds()))
		e.step("%s: saturation step: %d lines at %.0f/s", label, lines, rate)
		return measureWindow(ctx, s, lines, rate, satGrace)
	})
	sat.Window, sat.Definition = ss.window.Seconds(), satDefinition(ss.window)
	return sat, err
}

// searchSaturation takes first (a window at first.asked) as the first step;
// then the rate doubles while sustained (or halves while not), and once a
// rate sustained and one failed are known, their geometric midpoint is
// tried, until maxSteps windows were measured, the bracket is within
// satClose, or the rate leaves satMinRate..satMaxRate. step measures a
// window at a rate.
func searchSaturation(first windowResult, maxSteps int, step func(rate float64) (windowResult, error)) (*Saturation, error) {
	sat := &Saturation{}
	note := func(w windowResult) {
		ok, why := sustained(w)
		sat.Steps = append(sat.Steps, SatStep{Rate: w.asked, Achieved: w.achieved, Delivered: 100 * w.deliveredShare(),
			P50: ms(w.p50), P99: jsonFloat(msOrInf(w.p99All)), Sustained: ok, Why: why})
		if ok {
			sat.Sustained = max(sat.Sustained, w.asked)
		} else if sat.Failed == 0 || w.asked < sat.Failed {
			sat.Failed = w.asked
		}
	}
	note(first)
	for len(sat.Steps) < maxSteps {
		lo, hi := sat.Sustained, sat.Failed
		var rate float64
		switch {
		case hi == 0:
			rate = 2 * lo
		case lo == 0:
			rate = math.Floor(hi / 2)
		case hi/lo <= satClose:
			return sat, nil
		default:
			rate = math.Round(math.Sqrt(lo * hi))
		}
		if rate < satMinRate || rate > satMaxRate || rate == lo || rate == hi {
			return sat, nil
		}
		w, err := step(rate)
		if err != nil {
			return sat, err
		}
		note(w)
	}
	return sat, nil
}

// quietDown waits until s's arrivals stop for 300 ms, at most limit.
func quietDown(ctx context.Context, s live, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	last := -1
	for time.Now().Before(deadline) {
		n := s.timed()
		if n == last {
			return nil
		}
		last = n
		if err := sleep(ctx, 300*time.Millisecond); err != nil {
			return err
		}
	}
	return nil
}

func msOrInf(d time.Duration) float64 {
	if d == never {
		return math.Inf(1)
	}
	return ms(d)
}

// satDefinition is the saturation rule for windows of window, as the
// report states it.
func satDefinition(window time.Duration) string {
	return fmt.Sprintf("the highest line rate at which a window of lines (%v of them, at least %d lines) is sent at %.0f%% of the rate or more, "+
		"every line reaches every receiver within %v of the last send, the p99 over every (line, receiver) pair is under %v, "+
		"and the p50 of the window's last third of lines is at most %d× that of its first third plus %v (latency not growing)",
		window, satMinLines, 100*satKeep, satGrace, satP99, satGrowth, satSlack)
}

// comparison is one size of the rooms or groups scenario: ours beside
// signed raw and raw GossipSub on ours' connection graph.
type comparison struct {
	label string // "10 nodes"
	lines int    // lines per measured window
	// startOurs starts our side and returns its connection graph.
	startOurs func(ctx context.Context) (live, [][2]int, error)
	// startRaw starts raw GossipSub on the graph, signed or not.
	startRaw func(ctx context.Context, edges [][2]int, signed bool) (live, error)
	// afterOurs, when not nil, runs on our side after its window (and
	// search) and before it closes: the group's removal.
	afterOurs func(ctx context.Context, s live) error
}

// compared is a comparison's outcome: each side's windows, one a run.
type compared struct {
	ours, signed, raw []windowResult
	oursSat, signSat  *Saturation
	// restarts counts sides whose start failed once and was tried again.
	restarts int
}

// again runs start, and once more if it fails (a loaded machine can time
// out a join while a hundred nodes start), counting the second tries.
func (e *env) again(ctx context.Context, restarts *int, start func() error) error {
	err := start()
	if err == nil || ctx.Err() != nil {
		return err
	}
	*restarts++
	e.step("starting failed, trying once more: %s", oneLine(err.Error()))
	return start()
}

// compare runs c runs times, each run a round of ours, raw and signed raw
// one after the other (interleaved, so that drift on a shared machine hits
// the three alike), each side on nodes started afresh and settled. In the
// last round the saturation search runs on ours and on signed raw, on the
// same nodes after their measured window.
func (e *env) compare(ctx context.Context, c comparison) (out compared, err error) {
	for run := 1; run <= e.runs; run++ {
		last := run == e.runs
		search := last && e.sat.maxSteps > 1
		label := fmt.Sprintf("%s, run %d of %d", c.label, run, e.runs)

		e.step("%s: ours", label)
		var ours live
		var edges [][2]int
		err := e.again(ctx, &out.restarts, func() (err error) {
			ours, edges, err = c.startOurs(ctx)
			return err
		})
		if err != nil {
			return out, err
		}
		w, sat, err := e.measureSide(ctx, label+", ours", ours, c.lines, e.deliveryTimeout, search)
		if err == nil && c.afterOurs != nil {
			err = c.afterOurs(ctx, ours)
		}
		if err = errors.Join(err, ours.close()); err != nil {
			return out, err
		}
		out.ours = append(out.ours, w)
		if sat != nil {
			out.oursSat = sat
		}

		for _, signed := range []bool{false, true} {
			name := sideRaw
			if signed {
				name = sideSigned
			}
			e.step("%s: %s GossipSub", label, name)
			var raw live
			err := e.again(ctx, &out.restarts, func() (err error) {
				raw, err = c.startRaw(ctx, edges, signed)
				return err
			})
			if err != nil {
				return out, fmt.Errorf("%s: %w", name, err)
			}
			// Raw GossipSub has no repair: wait a while for stragglers, no longer.
			w, sat, err := e.measureSide(ctx, label+", "+name, raw, c.lines, rawWait, search && signed)
			if err = errors.Join(err, raw.close()); err != nil {
				return out, fmt.Errorf("%s: %w", name, err)
			}
			if signed {
				out.signed = append(out.signed, w)
				if sat != nil {
					out.signSat = sat
				}
			} else {
				out.raw = append(out.raw, w)
			}
		}
	}
	return out, nil
}

// rawWait is how long raw GossipSub's stragglers are waited for.
const rawWait = 10 * time.Second

// measureSide measures one window of lines at roomRate on s, then, if
// search, the saturation search from it.
func (e *env) measureSide(ctx context.Context, label string, s live, lines int, wait time.Duration, search bool) (windowResult, *Saturation, error) {
	e.step("%s: %d lines at %d/s", label, lines, roomRate)
	w, err := measureWindow(ctx, s, lines, roomRate, wait)
	if err != nil || !search {
		return w, nil, err
	}
	sat, err := saturate(ctx, e, label, s, w, e.sat)
	return w, sat, err
}
