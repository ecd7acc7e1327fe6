// Package safety computes safety numbers: what two people compare, read
// aloud or scan as a QR code, to check that each has the other's real
// identity key and no one sits in the middle.
//
// The construction is Signal's numeric fingerprint (version 0) over
// Backchannel's Ed25519 identity keys, with the peer ID as the stable
// identifier: each identity gets a 30-digit half from 5200 iterations of
// SHA-512, and the two halves are ordered by the identities' key bytes, so
// both sides compute the same 60 digits. The QR form carries the first 32
// bytes of both iterated hashes, in the same order, so it matches whichever
// side scans it.
package safety
