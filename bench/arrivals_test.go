package bench

import (
	"testing"
	"time"
)

// TestArrivals times a line from its send whichever comes first, its
// arrival or the sender learning its ID, and counts copies.
func TestArrivals(t *testing.T) {
	t0 := time.Unix(1000, 0)
	tests := []struct {
		name  string
		steps func(a *arrivals[string])
		lat   []time.Duration
		dups  int
	}{
		{"sent first", func(a *arrivals[string]) {
			a.markSent("x", t0)
			a.arrived(1, "x", t0.Add(3*time.Millisecond))
		}, []time.Duration{3 * time.Millisecond}, 0},
		{"arrived before the send returned", func(a *arrivals[string]) {
			a.arrived(1, "x", t0.Add(2*time.Millisecond))
			a.arrived(2, "x", t0.Add(4*time.Millisecond))
			a.markSent("x", t0)
		}, []time.Duration{2 * time.Millisecond, 4 * time.Millisecond}, 0},
		{"copies count once, as duplicates", func(a *arrivals[string]) {
			a.arrived(1, "x", t0.Add(time.Millisecond))
			a.markSent("x", t0)
			a.arrived(1, "x", t0.Add(5*time.Millisecond))
		}, []time.Duration{time.Millisecond}, 1},
		{"never sent", func(a *arrivals[string]) {
			a.arrived(1, "y", t0)
		}, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := newArrivals[string]()
			tt.steps(a)
			lat := a.latencies()
			if len(lat) != len(tt.lat) || a.count() != len(tt.lat) {
				t.Fatalf("latencies %v (count %d), want %v", lat, a.count(), tt.lat)
			}
			for i := range lat {
				if lat[i] != tt.lat[i] {
					t.Fatalf("latencies %v, want %v", lat, tt.lat)
				}
			}
			if d := a.duplicates(); d != tt.dups {
				t.Fatalf("%d duplicates, want %d", d, tt.dups)
			}
		})
	}
}

// TestArrivalsWindow: a window's latencies split into its first and last
// third of lines by the order they were sent; reset starts a new window and
// leaves out what arrives of the old one.
func TestArrivalsWindow(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a := newArrivals[int]()
	for i := range 6 { // line i takes i ms, at receivers 1 and 2
		a.markSent(i, t0)
		a.arrived(1, i, t0.Add(time.Duration(i)*time.Millisecond))
		a.arrived(2, i, t0.Add(time.Duration(i)*time.Millisecond))
	}
	w := a.times()
	ms := func(xs ...int) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x)*time.Millisecond)
		}
		return out
	}
	tests := []struct {
		name      string
		got, want []time.Duration
	}{
		{"first third", w.first, ms(0, 0, 1, 1)},
		{"last third", w.final, ms(4, 4, 5, 5)},
	}
	for _, tt := range tests {
		if len(tt.got) != len(tt.want) {
			t.Fatalf("%s: %v, want %v", tt.name, tt.got, tt.want)
		}
		for i := range tt.got {
			if tt.got[i] != tt.want[i] {
				t.Fatalf("%s: %v, want %v", tt.name, tt.got, tt.want)
			}
		}
	}
	if len(w.lat) != 12 || !w.last.Equal(t0.Add(5*time.Millisecond)) || w.dups != 0 {
		t.Fatalf("window %+v", w)
	}
	a.reset()
	a.arrived(1, 5, t0.Add(time.Second)) // an old line, late
	a.markSent(7, t0)
	a.arrived(1, 7, t0.Add(2*time.Millisecond))
	if w := a.times(); len(w.lat) != 1 || w.lat[0] != 2*time.Millisecond || w.dups != 0 {
		t.Fatalf("after reset: %+v", w)
	}
}
