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
