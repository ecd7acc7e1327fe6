package stamp

import (
	"context"
	"errors"
	"testing"
	"time"
)

// makeStamp makes a stamp in tests, where the difficulty is kept low.
func makeStamp(tb testing.TB, c Context, day Day, difficulty uint8) Stamp {
	tb.Helper()
	s, err := Make(context.Background(), c, day, difficulty)
	if err != nil {
		tb.Fatalf("Make: %v", err)
	}
	return s
}

func TestMakeVerify(t *testing.T) {
	c := testContext(t)
	today := DayOf(now)
	for _, difficulty := range []uint8{0, 4, 8} {
		s := makeStamp(t, c, today, difficulty)
		if s.Version != Version || s.Difficulty != difficulty || s.Day != today {
			t.Fatalf("Make(difficulty %d) = %+v", difficulty, s)
		}
		for min := uint8(0); min <= difficulty; min++ {
			if err := s.Verify(c, min, now); err != nil {
				t.Errorf("difficulty %d, min %d: Verify: %v", difficulty, min, err)
			}
		}
	}
}

func TestVerifyClockSkew(t *testing.T) {
	c := testContext(t)
	s := makeStamp(t, c, DayOf(now), 4)
	for _, tc := range []struct {
		name string
		at   time.Time
		want error
	}{
		{"same day", now, nil},
		{"verifier a day ahead", now.Add(24 * time.Hour), nil},
		{"verifier a day behind", now.Add(-24 * time.Hour), nil},
		{"verifier two days ahead", now.Add(48 * time.Hour), ErrStaleStamp},
		{"verifier two days behind", now.Add(-48 * time.Hour), ErrStaleStamp},
		{"a year later", now.AddDate(1, 0, 0), ErrStaleStamp},
		{"before the epoch", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC), ErrStaleStamp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Verify(c, 4, tc.at); !errors.Is(err, tc.want) {
				t.Errorf("Verify at %v = %v, want %v", tc.at, err, tc.want)
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	c := testContext(t)
	today := DayOf(now)
	// Difficulty 8 makes an accidental pass of a tampered stamp a 1 in 256
	// event; the inputs are fixed, so the outcome is too.
	good := makeStamp(t, c, today, 8)
	other := publicFromSeed(t, 0x03)

	tests := []struct {
		name  string
		stamp func(Stamp) Stamp
		ctx   func(Context) Context
		min   uint8
		want  error
	}{
		{name: "other recipient", ctx: func(c Context) Context { c.Recipient = other; return c }, want: ErrInsufficientWork},
		{name: "other sender", ctx: func(c Context) Context { c.Sender = other; return c }, want: ErrInsufficientWork},
		{name: "recipient and sender swapped", ctx: func(c Context) Context { c.Recipient, c.Sender = c.Sender, c.Recipient; return c }, want: ErrInsufficientWork},
		{name: "other message", ctx: func(c Context) Context { c.MessageHash = HashMessage([]byte("hello!")); return c }, want: ErrInsufficientWork},
		{name: "day moved", stamp: func(s Stamp) Stamp { s.Day--; return s }, want: ErrInsufficientWork},
		{name: "nonce changed", stamp: func(s Stamp) Stamp { s.Nonce++; return s }, want: ErrInsufficientWork},
		{name: "claim raised", stamp: func(s Stamp) Stamp { s.Difficulty = 20; return s }, want: ErrInsufficientWork},
		{name: "stale day", stamp: func(s Stamp) Stamp { s.Day -= 2; return s }, want: ErrStaleStamp},
		{name: "future day", stamp: func(s Stamp) Stamp { s.Day += 2; return s }, want: ErrStaleStamp},
		{name: "claim below minimum", min: 9, want: ErrDifficultyTooLow},
		{name: "claim above maximum", stamp: func(s Stamp) Stamp { s.Difficulty = MaxDifficulty + 1; return s }, want: ErrBadStamp},
		{name: "minimum above maximum", min: MaxDifficulty + 1, want: ErrDifficultyRange},
		{name: "version zero", stamp: func(s Stamp) Stamp { s.Version = 0; return s }, want: ErrBadStamp},
		{name: "version two", stamp: func(s Stamp) Stamp { s.Version = 2; return s }, want: ErrBadStamp},
		{name: "zero stamp", stamp: func(Stamp) Stamp { return Stamp{} }, want: ErrBadStamp},
		{name: "zero recipient", ctx: func(c Context) Context { c.Recipient = [32]byte{}; return c }, want: ErrInvalidContext},
		{name: "zero sender", ctx: func(c Context) Context { c.Sender = [32]byte{}; return c }, want: ErrInvalidContext},
		{name: "zero message hash", ctx: func(c Context) Context { c.MessageHash = MessageHash{}; return c }, want: ErrInvalidContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, ctx := good, c
			if tc.stamp != nil {
				s = tc.stamp(s)
			}
			if tc.ctx != nil {
				ctx = tc.ctx(ctx)
			}
			min := tc.min
			if min == 0 {
				min = 8
			}
			err := s.Verify(ctx, min, now)
			if !errors.Is(err, tc.want) {
				t.Fatalf("Verify = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMakeRejects(t *testing.T) {
	c := testContext(t)
	tests := []struct {
		name       string
		ctx        Context
		difficulty uint8
		want       error
	}{
		{"difficulty above maximum", c, MaxDifficulty + 1, ErrDifficultyRange},
		{"zero context", Context{}, 4, ErrInvalidContext},
		{"zero message hash", Context{Recipient: c.Recipient, Sender: c.Sender}, 4, ErrInvalidContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Make(context.Background(), tc.ctx, DayOf(now), tc.difficulty); !errors.Is(err, tc.want) {
				t.Errorf("Make = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestMakeCancelled(t *testing.T) {
	c := testContext(t)
	t.Run("before it starts", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Make(ctx, c, DayOf(now), 4); !errors.Is(err, context.Canceled) {
			t.Errorf("Make = %v, want context.Canceled", err)
		}
	})
	t.Run("while it works", func(t *testing.T) {
		// At MaxDifficulty Make would run for hours; only the deadline ends it.
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		if _, err := Make(ctx, c, DayOf(now), MaxDifficulty); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Make = %v, want context.DeadlineExceeded", err)
		}
	})
}

func TestDayOf(t *testing.T) {
	berlin := time.FixedZone("CET", 3600)
	tests := []struct {
		name string
		t    time.Time
		want Day
	}{
		{"epoch", time.Unix(0, 0), 0},
		{"before the epoch", time.Unix(-1, 0), 0},
		{"end of day one", time.Date(1970, 1, 1, 23, 59, 59, 999999999, time.UTC), 0},
		{"start of day two", time.Date(1970, 1, 2, 0, 0, 0, 0, time.UTC), 1},
		{"test day", now, 20782},
		{"last second of the test day", time.Date(2026, 11, 25, 23, 59, 59, 0, time.UTC), 20782},
		{"next midnight", time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), 20783},
		{"local time already tomorrow", time.Date(2026, 11, 26, 0, 30, 0, 0, berlin), 20782},
	}
	for _, tc := range tests {
		if got := DayOf(tc.t); got != tc.want {
			t.Errorf("%s: DayOf(%v) = %d, want %d", tc.name, tc.t, got, tc.want)
		}
	}
}

// TestHashMessage pins HashMessage against a value computed independently
// (Python: sha256(b"backchannel/stamp/message/v1\x00" + b"hello")).
func TestHashMessage(t *testing.T) {
	const want = "dacb13bdb452b14fdd1d838f5bc024e4dbf30a70b2f9f1d07bc5b12aa5f63dbb"
	if got := HashMessage([]byte("hello")).String(); got != want {
		t.Errorf("HashMessage(hello) = %s, want %s", got, want)
	}
	if HashMessage(nil).IsZero() {
		t.Error("HashMessage(nil) is zero")
	}
	if !(MessageHash{}).IsZero() {
		t.Error("zero MessageHash is not IsZero")
	}
}

func TestConstants(t *testing.T) {
	if DefaultDifficulty > MaxDifficulty {
		t.Errorf("DefaultDifficulty %d above MaxDifficulty %d", DefaultDifficulty, MaxDifficulty)
	}
}
