package bench

import (
	"strings"
	"testing"
	"time"
)

// TestDMStages: the throughput's stages come from the measurements, and
// the note says whether the target was met.
func TestDMStages(t *testing.T) {
	tests := []struct {
		name string
		s    dmStages
		want []string
	}{
		{"missed", dmStages{rate: 5000, rateNoSync: 8000, rawRate: 500_000, crypt: 20 * time.Microsecond, cpu: 300 * time.Microsecond,
			cpuNoSync: 250 * time.Microsecond, busy: 0.9, cores: 2},
			[]string{"10,000 msg/s not met (5,000 msg/s)", "200 µs of wall time", "75 µs of it fsync", "cap it near 6,667 msg/s", "are 20 µs", "share 2 µs", "leaving 278 µs"}},
		{"met", dmStages{rate: 12_000, rateNoSync: 20_000, rawRate: 500_000, crypt: 20 * time.Microsecond, cpu: 100 * time.Microsecond, busy: -1, cores: 2},
			[]string{"10,000 msg/s met (12,000 msg/s)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			note := tt.s.note()
			for _, w := range tt.want {
				if !strings.Contains(note, w) {
					t.Errorf("note lacks %q:\n%s", w, note)
				}
			}
			figs := tt.s.figures()
			if busy := figs[len(figs)-1].Name == "machine busy during the burst"; busy != (tt.s.busy >= 0) {
				t.Errorf("busy figure shown: %v, busy %v", busy, tt.s.busy)
			}
		})
	}
}

// TestRatchetCost runs the ratchet's stage: messages go through, and it
// costs something.
func TestRatchetCost(t *testing.T) {
	d, err := ratchetCost(50)
	if err != nil {
		t.Fatal(err)
	}
	if d < 0 {
		t.Fatalf("cost %v", d)
	}
}
