package bench

import "errors"

// Errors of the package.
var (
	// ErrUnknownScenario: Options.Only names no scenario.
	ErrUnknownScenario = errors.New("bench: unknown scenario")
	// ErrBadRuns: Options.Runs is negative.
	ErrBadRuns = errors.New("bench: runs must be 1 or more (0: the default)")
	// ErrLeftLoopback: a connection gater refused a non-loopback address, so
	// something tried to leave the machine; the scenario's figures are void.
	ErrLeftLoopback = errors.New("bench: a gater refused a non-loopback address")
	// ErrTimeout: a scenario waited longer than its limit for a message or a
	// process.
	ErrTimeout = errors.New("bench: timed out")
	// ErrWrongCounts: a room's listener still showed vote counts other
	// than its host's after the scenario waited for them to agree.
	ErrWrongCounts = errors.New("bench: wrong vote counts")
	// ErrChild: a child process did not start or did not stop cleanly.
	ErrChild = errors.New("bench: child process failed")
)
