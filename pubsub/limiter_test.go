package pubsub

import (
	"fmt"
	"sync"
	"testing"
)

func TestLimiter(t *testing.T) {
	tests := []struct {
		name    string
		burst   int
		maxKeys int
		keys    []string
		want    []bool
	}{
		{"burst then refused", 2, 10, []string{"a", "a", "a"}, []bool{true, true, false}},
		{"keys are independent", 1, 10, []string{"a", "b", "a", "b"}, []bool{true, true, false, false}},
		// With room for one key, "b" evicts "a", which comes back with a full bucket.
		{"eviction refills", 1, 1, []string{"a", "a", "b", "a"}, []bool{true, false, true, true}},
		// "a" is used again before "c" arrives, so "b" is the one evicted.
		{"least recently used goes", 1, 2, []string{"a", "b", "a", "c", "a", "b"}, []bool{true, true, false, true, false, true}},
		{"zero burst refuses", 0, 10, []string{"a"}, []bool{false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLimiter(0, tt.burst, tt.maxKeys) // rate 0: no refill, deterministic
			for i, k := range tt.keys {
				if got := l.Allow(k); got != tt.want[i] {
					t.Errorf("Allow(%q) #%d = %v, want %v", k, i, got, tt.want[i])
				}
			}
		})
	}
}

func TestLimiterBounded(t *testing.T) {
	l := NewLimiter(1, 1, 100)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 1000 {
				l.Allow(fmt.Sprintf("%d/%d", g, i))
			}
		})
	}
	wg.Wait()
	if n := l.Len(); n != 100 {
		t.Fatalf("Len() = %d, want 100", n)
	}
	if NewLimiter(1, 1, 0).maxKeys != 1 {
		t.Error("maxKeys below 1 not raised to 1")
	}
}

func BenchmarkLimiterAllow(b *testing.B) {
	for _, bc := range []struct {
		name string
		keys int
	}{{"known keys", 512}, {"evicting", 2048}} {
		b.Run(bc.name, func(b *testing.B) {
			l := NewLimiter(1e9, 1e9, 1024)
			keys := make([]string, bc.keys)
			for i := range keys {
				keys[i] = fmt.Sprint(i)
			}
			i := 0
			for b.Loop() {
				l.Allow(keys[i%len(keys)])
				i++
			}
		})
	}
}
