package rooms

import (
	"testing"
	"time"

	"github.com/backchannel/backchannel/node/rooms/roomstate"
)

// TestPresencePace: a listener's interval grows with the room so that the
// room's presence traffic stays near presenceRoomRate; each presence holds
// past the next one even at the jitter's longest; speakers keep the base
// interval; no TTL leaves roomstate's bounds.
func TestPresencePace(t *testing.T) {
	tests := []struct {
		present int
		speaker bool
		every   time.Duration
	}{
		{1, false, time.Minute},
		{120, false, time.Minute},
		{1_000, false, 500 * time.Second},
		{10_000, false, 5_000 * time.Second},
		{100_000, false, presenceMaxEvery},
		{10_000, true, time.Minute},
	}
	for _, tt := range tests {
		every, ttl := presencePace(tt.present, tt.speaker)
		if every != tt.every {
			t.Errorf("presencePace(%d, %v) every %s, want %s", tt.present, tt.speaker, every, tt.every)
		}
		if longest := time.Duration(float64(every) * (1 + presenceJitter)); ttl <= longest {
			t.Errorf("presencePace(%d, %v): TTL %s does not outlast the longest interval %s", tt.present, tt.speaker, ttl, longest)
		}
		if ttl < roomstate.MinPresenceTTL || ttl > roomstate.MaxPresenceTTL || ttl%time.Second != 0 {
			t.Errorf("presencePace(%d, %v): TTL %s outside roomstate's bounds", tt.present, tt.speaker, ttl)
		}
		if rate := float64(tt.present) / every.Seconds(); !tt.speaker && tt.present <= 10_000 && rate > presenceRoomRate {
			t.Errorf("a room of %d announces %.1f presences a second, over %v", tt.present, rate, presenceRoomRate)
		}
	}
	var early, late int
	for range 1000 {
		if d := jittered(time.Minute); d < 54*time.Second || d > 66*time.Second {
			t.Fatalf("jittered(1m) = %s", d)
		}
		d := firstInterval(time.Minute)
		if d < 6*time.Second || d > time.Minute {
			t.Fatalf("firstInterval(1m) = %s", d)
		}
		// Spread over the interval, not bunched at its end like jittered.
		switch {
		case d < 30*time.Second:
			early++
		default:
			late++
		}
	}
	if early < 300 || late < 300 {
		t.Errorf("firstInterval(1m): %d under 30 s and %d over, want both near half", early, late)
	}
}
