package stamp

import "errors"

// Errors returned by this package. Functions wrap them with detail; test with
// errors.Is.
var (
	// ErrBadStamp means a stamp is malformed: it does not decode, is too
	// large, has an unknown version, or claims a difficulty above
	// MaxDifficulty.
	ErrBadStamp = errors.New("stamp: malformed stamp")
	// ErrInvalidContext means a Context has a zero recipient, sender or
	// message hash.
	ErrInvalidContext = errors.New("stamp: invalid context")
	// ErrDifficultyRange means a caller asked for a difficulty above
	// MaxDifficulty: Make with such a difficulty, or Verify with such a
	// minimum, which no stamp could meet.
	ErrDifficultyRange = errors.New("stamp: difficulty out of range")
	// ErrDifficultyTooLow means a stamp claims less work than the recipient
	// requires. The sender may make a new stamp at the required difficulty.
	ErrDifficultyTooLow = errors.New("stamp: difficulty below the required minimum")
	// ErrStaleStamp means a stamp's day is not yesterday, today or tomorrow
	// (UTC) at the verifier.
	ErrStaleStamp = errors.New("stamp: stale day")
	// ErrInsufficientWork means the work does not meet the claimed
	// difficulty for this context: the stamp is forged, or made for another
	// recipient, sender, day or message.
	ErrInsufficientWork = errors.New("stamp: insufficient work")
)
