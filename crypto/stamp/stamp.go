package stamp

import (
	"fmt"
	"time"
)

// Version is the stamp format this package makes: the work function, its
// Argon2id parameters and the challenge layout.
const Version = 1

// DefaultDifficulty is the difficulty a node asks of strangers unless
// configured otherwise: 2^11 = 2048 evaluations on average, about 0.7 s on a
// 2-core EPYC (each evaluation about 0.35 ms).
const DefaultDifficulty = 11

// MaxDifficulty caps the difficulty Make accepts and a stamp may claim:
// 2^24 evaluations are about 1.6 hours of work on the machine above, beyond
// any sensible demand on a stranger.
const MaxDifficulty = 24

// Stamp is proof of work for one Context. Its zero value is invalid (its
// Version is 0).
type Stamp struct {
	// Version is the stamp format, see the package constant Version.
	Version uint8
	// Difficulty is the work the stamp claims, in leading zero bits.
	Difficulty uint8
	// Day is the UTC day the stamp was made for.
	Day Day
	// Nonce is the value that made the work function meet Difficulty.
	Nonce uint64
}

// check validates the fields that need no context: version and difficulty.
func (s Stamp) check() error {
	if s.Version != Version {
		return fmt.Errorf("%w: version %d, want %d", ErrBadStamp, s.Version, Version)
	}
	if s.Difficulty > MaxDifficulty {
		return fmt.Errorf("%w: difficulty %d above %d", ErrBadStamp, s.Difficulty, MaxDifficulty)
	}
	return nil
}

// Verify checks that s pays for a message in context c: the stamp is well
// formed, claims at least minDifficulty, is dated yesterday, today or
// tomorrow (UTC) at now, and its work meets the claimed difficulty. The cheap
// checks come first; the one Argon2id evaluation (about 0.35 ms) comes last.
func (s Stamp) Verify(c Context, minDifficulty uint8, now time.Time) error {
	if minDifficulty > MaxDifficulty {
		return fmt.Errorf("%w: required difficulty %d above %d", ErrDifficultyRange, minDifficulty, MaxDifficulty)
	}
	if err := s.check(); err != nil {
		return err
	}
	if s.Difficulty < minDifficulty {
		return fmt.Errorf("%w: stamp has %d, %d required", ErrDifficultyTooLow, s.Difficulty, minDifficulty)
	}
	if today := DayOf(now); !s.Day.near(today) {
		return fmt.Errorf("%w: stamp day %d, today is %d", ErrStaleStamp, s.Day, today)
	}
	if err := c.check(); err != nil {
		return err
	}
	if got := leadingZeroBits(evaluate(challenge(c, s.Day, s.Nonce))); got < int(s.Difficulty) {
		return fmt.Errorf("%w: %d leading zero bits, %d claimed", ErrInsufficientWork, got, s.Difficulty)
	}
	return nil
}
