// Package stamp makes and verifies proof-of-work stamps: the postage a
// stranger pays to reach someone's request inbox.
//
// A stamp proves that its maker spent memory-hard work (Argon2id) on one
// particular message: the work is bound to the recipient, the sender, the UTC
// day and a hash of the message, so it cannot be reused for another message,
// another recipient or another week. The recipient chooses the difficulty and
// publishes it in its prekey bundle; a stamp claims a difficulty and must meet
// it, and the claim must reach the recipient's minimum.
//
// Difficulty d is the number of leading zero bits the work function's output
// must have, so making a stamp takes 2^d evaluations on average (with the
// spread of a geometric distribution) while verifying one takes exactly one.
// At DefaultDifficulty a stamp takes about 0.7 s to make on average on a
// 2-core EPYC (half of them under 0.5 s, one in twenty over 2 s) and about
// 0.35 ms to verify.
//
// The package is pure: it reads no clock (callers pass the time) and starts
// no goroutines. Make honours context cancellation.
package stamp
