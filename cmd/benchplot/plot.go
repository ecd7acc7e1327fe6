package main

import (
	"errors"
	"fmt"
	"image/color"
	"io"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/backchannel/backchannel/bench"
)

// errNoRooms: the report has no room figures to plot.
var errNoRooms = errors.New("the report has no room figures to plot: the rooms scenario did not run, or failed")

// writePlot draws p50 and p99 latency against room size, ours beside
// signed raw GossipSub (the baseline) and raw GossipSub (the floor), as a
// PNG (gonum/plot) to w. Each point is the median over the report's runs,
// with a bar from the smallest to the largest run. The latency axis is
// logarithmic: the sides differ by orders of magnitude at the larger sizes.
func writePlot(w io.Writer, r *bench.Report) error {
	s, ok := r.Scenario("rooms")
	if !ok || len(s.Sizes) == 0 {
		return errNoRooms
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Live room latency by room size (%s, %d cores, median of %d runs)", r.Machine.CPU, r.Machine.Cores, max(1, r.Runs))
	p.X.Label.Text = "nodes in the room"
	p.Y.Label.Text = "latency, ms (log scale; bars: smallest to largest run)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())

	var (
		red   = color.RGBA{R: 200, A: 255}
		green = color.RGBA{G: 140, A: 255}
		blue  = color.RGBA{B: 200, A: 255}
	)
	series := []struct {
		name  string
		value func(bench.SizePoint) bench.Spread
		color color.RGBA
		dash  bool
	}{
		{"Backchannel p50", func(p bench.SizePoint) bench.Spread { return p.Ours.P50 }, red, false},
		{"Backchannel p99", func(p bench.SizePoint) bench.Spread { return p.Ours.P99 }, red, true},
		{"signed raw GossipSub p50", func(p bench.SizePoint) bench.Spread { return p.SignedRaw.P50 }, green, false},
		{"signed raw GossipSub p99", func(p bench.SizePoint) bench.Spread { return p.SignedRaw.P99 }, green, true},
		{"raw GossipSub p50", func(p bench.SizePoint) bench.Spread { return p.Raw.P50 }, blue, false},
		{"raw GossipSub p99", func(p bench.SizePoint) bench.Spread { return p.Raw.P99 }, blue, true},
	}
	for _, sr := range series {
		pts := make(plotter.XYs, 0, len(s.Sizes))
		bars := make(plotter.YErrors, 0, len(s.Sizes))
		for _, sp := range s.Sizes {
			v := sr.value(sp)
			y, lo, hi := positive(v.Median), positive(v.Min), positive(v.Max)
			pts = append(pts, plotter.XY{X: float64(sp.Nodes), Y: y})
			bars = append(bars, struct{ Low, High float64 }{Low: max(0, y-lo), High: max(0, hi-y)})
		}
		line, points, err := plotter.NewLinePoints(pts)
		if err != nil {
			return err
		}
		line.Color, points.Color = sr.color, sr.color
		line.Width = vg.Points(1.5)
		if sr.dash {
			line.Dashes = []vg.Length{vg.Points(6), vg.Points(3)}
			points.Shape = draw.TriangleGlyph{}
		}
		eb := &plotter.YErrorBars{XYs: pts, YErrors: bars, LineStyle: plotter.DefaultLineStyle, CapWidth: vg.Points(4)}
		eb.LineStyle.Color = sr.color
		p.Add(line, points, eb)
		p.Legend.Add(sr.name, line, points)
	}
	p.Y.Max *= 8 // room above the lines for the legend
	wt, err := p.WriterTo(8*vg.Inch, 5*vg.Inch, "png")
	if err != nil {
		return err
	}
	_, err = wt.WriteTo(w)
	return err
}

// positive is v, or a thousandth of a millisecond for 0 or less: a log axis
// cannot show them.
func positive(v float64) float64 {
	if v <= 0 {
		return 0.001
	}
	return v
}
