package stamp

import (
	"encoding/binary"
	"math/bits"

	"golang.org/x/crypto/argon2"

	"github.com/backchannel/backchannel/crypto/internal/canon"
)

// Argon2id parameters of one evaluation of the work function (Version 1).
// They are part of the format: changing any of them needs a new Version.
//
// 256 KiB with one pass and one lane costs about 0.35 ms on a 2-core EPYC,
// which keeps verification (one evaluation) well under a millisecond;
// doubling the memory more than doubles the cost there, as the working set
// leaves the L2 cache.
const (
	argonTime    = 1
	argonMemory  = 256 // KiB
	argonThreads = 1
	argonTagSize = 32
)

// workDomain names the work function; it is both the Argon2 salt and the
// first field of the challenge, so no other Argon2 use in Backchannel can
// produce a valid stamp.
const workDomain = "backchannel/stamp/v1"

// nonceSize is the size of the nonce at the end of the challenge.
const nonceSize = 8

// challenge returns the canonical Argon2 input for c, day and nonce:
// domain ‖ recipient ‖ sender ‖ day ‖ message hash ‖ nonce, where the domain
// is length-prefixed and everything else has a fixed size. The nonce is last
// so that Make can rewrite it in place.
func challenge(c Context, day Day, nonce uint64) []byte {
	var w canon.Builder
	w.String(workDomain).
		Fixed(c.Recipient[:]).
		Fixed(c.Sender[:]).
		Uint64(uint64(day)).
		Fixed(c.MessageHash[:]).
		Uint64(nonce)
	return w.Build()
}

// setNonce rewrites the nonce of a challenge built by challenge.
func setNonce(ch []byte, nonce uint64) {
	binary.BigEndian.PutUint64(ch[len(ch)-nonceSize:], nonce)
}

// evaluate runs the work function once on a challenge.
func evaluate(ch []byte) []byte {
	return argon2.IDKey(ch, []byte(workDomain), argonTime, argonMemory, argonThreads, argonTagSize)
}

// leadingZeroBits counts the zero bits at the start of b.
func leadingZeroBits(b []byte) int {
	n := 0
	for _, c := range b {
		if c != 0 {
			return n + bits.LeadingZeros8(c)
		}
		n += 8
	}
	return n
}
