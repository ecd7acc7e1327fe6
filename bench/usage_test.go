package bench

import (
	"testing"
	"time"
)

func TestParseProcStat(t *testing.T) {
	tests := []struct {
		line        string
		busy, total uint64
		ok          bool
	}{
		// user nice system idle iowait irq softirq steal guest guest_nice
		{"cpu  100 10 50 800 40 0 5 5 30 0", 170, 1010, true},
		{"cpu  100 0 50 850", 150, 1000, true}, // older kernels: fewer columns
		{"cpu0 100 0 50 850 0", 0, 0, false},
		{"cpu  100 x 50 850 0", 0, 0, false},
		{"", 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			busy, total, ok := parseProcStat(tt.line)
			if busy != tt.busy || total != tt.total || ok != tt.ok {
				t.Fatalf("got %d, %d, %v; want %d, %d, %v", busy, total, ok, tt.busy, tt.total, tt.ok)
			}
		})
	}
}

func TestUsageBetween(t *testing.T) {
	t0 := time.Unix(1000, 0)
	a := usageMark{at: t0, proc: time.Second, busy: 100, total: 1000, ok: true}
	tests := []struct {
		name string
		b    usageMark
		busy float64
		cpu  time.Duration
	}{
		{"a quarter busy", usageMark{at: t0.Add(time.Second), proc: 1500 * time.Millisecond, busy: 150, total: 1200, ok: true}, 0.25, 500 * time.Millisecond},
		{"no /proc/stat", usageMark{at: t0.Add(time.Second), proc: 2 * time.Second}, -1, time.Second},
		{"counters did not move", usageMark{at: t0.Add(time.Second), proc: time.Second, busy: 100, total: 1000, ok: true}, -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := usageBetween(a, tt.b)
			if u.busy != tt.busy || u.cpu != tt.cpu || u.wall != time.Second {
				t.Fatalf("usage %+v, want busy %v, cpu %v", u, tt.busy, tt.cpu)
			}
		})
	}
}
