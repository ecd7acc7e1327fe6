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

// writePlot draws p50 and p99 latency against room size, ours beside raw
// GossipSub (and signed raw GossipSub's p50), as a PNG (gonum/plot) to w.
// The latency axis is logarithmic: ours and raw differ by orders of
// magnitude at the larger sizes.
func writePlot(w io.Writer, r *bench.Report) error {
	s, ok := r.Scenario("rooms")
	if !ok || len(s.Rooms) == 0 {
		return errNoRooms
	}
	p := plot.New()
	p.Title.Text = fmt.Sprintf("Live room latency by room size (%s, %d cores)", r.Machine.CPU, r.Machine.Cores)
	p.X.Label.Text = "nodes in the room"
	p.Y.Label.Text = "latency, ms (log scale)"
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())

	series := []struct {
		name  string
		value func(bench.RoomPoint) float64
		color color.RGBA
		dash  bool
	}{
		{"Backchannel p50", func(p bench.RoomPoint) float64 { return p.P50 }, color.RGBA{R: 200, A: 255}, false},
		{"Backchannel p99", func(p bench.RoomPoint) float64 { return p.P99 }, color.RGBA{R: 200, A: 255}, true},
		{"raw GossipSub p50", func(p bench.RoomPoint) float64 { return p.RawP50 }, color.RGBA{B: 200, A: 255}, false},
		{"raw GossipSub p99", func(p bench.RoomPoint) float64 { return p.RawP99 }, color.RGBA{B: 200, A: 255}, true},
		{"signed raw GossipSub p50", func(p bench.RoomPoint) float64 { return p.SignedRawP50 }, color.RGBA{G: 140, A: 255}, false},
	}
	for _, sr := range series {
		pts := make(plotter.XYs, 0, len(s.Rooms))
		for _, rp := range s.Rooms {
			v := sr.value(rp)
			if v <= 0 {
				v = 0.001 // a log axis cannot show 0
			}
			pts = append(pts, plotter.XY{X: float64(rp.Nodes), Y: v})
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
		p.Add(line, points)
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
