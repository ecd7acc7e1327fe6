// Package vectors holds the test vectors of Backchannel's wire protocol,
// docs/vectors/*.json, and the tests that make and check them; the
// protocol itself is described in docs/PROTOCOL.md.
//
// Each vector starts from fixed inputs (keys from fixed seeds, fixed times,
// fixed texts) and records what the code makes of them: the exact signed
// bytes, signatures, IDs, encodings, sealed envelopes and their openings.
// Where the code draws randomness itself (prekeys, X3DH and ratchet keys, a
// mailbox batch's ephemeral key), the test fixes crypto/rand with
// testing/cryptotest.SetGlobalRandom and records the random bytes drawn as
// private keys, so that another implementation can use them as inputs.
// Values the code keeps to itself (chain keys, message keys, AEAD keys and
// nonces, DH outputs) are computed by the test from the formulas in
// docs/PROTOCOL.md and checked against what the code produced with them.
//
// By default the tests recompute every vector and compare it, byte for
// byte, with the file, so that any change to the wire fails here and shows
// as a diff of the vectors. To write the files again after an intended
// change:
//
//	go test ./protocol/vectors -run Vectors -update
//	BACKCHANNEL_VECTORS=write go test ./protocol/vectors -run Vectors
//
// The package has no code of its own besides its tests.
package vectors
