package stamp

import (
	"context"
	"encoding/binary"
	"testing"
)

// BenchmarkMakeDefault makes stamps at DefaultDifficulty, each for another
// message. The time per stamp varies a lot (the number of evaluations is
// geometric), so run it with a fixed count, e.g. -benchtime 30x; evals/op is
// the mean number of evaluations, 2^DefaultDifficulty in expectation.
func BenchmarkMakeDefault(b *testing.B) {
	c := testContext(b)
	var msg [8]byte
	var evals uint64
	n := 0
	for b.Loop() {
		binary.BigEndian.PutUint64(msg[:], uint64(n))
		c.MessageHash = HashMessage(msg[:])
		s, err := Make(context.Background(), c, DayOf(now), DefaultDifficulty)
		if err != nil {
			b.Fatal(err)
		}
		evals += s.Nonce + 1 // Make tries nonces from 0
		n++
	}
	b.ReportMetric(float64(evals)/float64(n), "evals/op")
}

// BenchmarkVerify verifies a stamp: one evaluation plus cheap checks, the
// same at any difficulty.
func BenchmarkVerify(b *testing.B) {
	c := testContext(b)
	s := makeStamp(b, c, DayOf(now), 8)
	for b.Loop() {
		if err := s.Verify(c, 8, now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEvaluation runs the work function once.
func BenchmarkEvaluation(b *testing.B) {
	ch := challenge(testContext(b), DayOf(now), 0)
	var nonce uint64
	for b.Loop() {
		setNonce(ch, nonce)
		evaluate(ch)
		nonce++
	}
}
