package stamp

import (
	"context"
	"fmt"
	"math"
)

// Make does the work for a stamp on c, dated day, at the given difficulty
// (leading zero bits; at most MaxDifficulty). It takes 2^difficulty
// evaluations on average, about 0.35 ms each. Make is deterministic: the
// same arguments give the same stamp.
//
// Make checks ctx before every evaluation and returns ctx.Err() once it is
// cancelled.
func Make(ctx context.Context, c Context, day Day, difficulty uint8) (Stamp, error) {
	if err := c.check(); err != nil {
		return Stamp{}, err
	}
	if difficulty > MaxDifficulty {
		return Stamp{}, fmt.Errorf("%w: difficulty %d above %d", ErrDifficultyRange, difficulty, MaxDifficulty)
	}
	ch := challenge(c, day, 0)
	for nonce := uint64(0); nonce < math.MaxUint64; nonce++ {
		if err := ctx.Err(); err != nil {
			return Stamp{}, err
		}
		setNonce(ch, nonce)
		if leadingZeroBits(evaluate(ch)) >= int(difficulty) {
			return Stamp{Version: Version, Difficulty: difficulty, Day: day, Nonce: nonce}, nil
		}
	}
	// Unreachable for difficulty <= MaxDifficulty: 2^64 tries without a
	// 24-bit solution will not happen.
	return Stamp{}, fmt.Errorf("%w: nonces exhausted", ErrDifficultyRange)
}
