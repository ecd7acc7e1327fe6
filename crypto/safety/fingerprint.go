package safety

import (
	"crypto/sha512"
	"encoding/binary"
)

// Parameters of Signal's numeric fingerprint, which this package follows.
const (
	// fingerprintVersion is the 2-byte version prefix of the first hash.
	fingerprintVersion = 0
	// iterations is the number of SHA-512 evaluations per identity. They
	// make a search for a key whose half collides with a target's cost
	// 5200 hashes per try.
	iterations = 5200
	// digitsPerHalf is the number of digits one identity contributes.
	digitsPerHalf = 30
	// chunkSize is the number of hash bytes behind each group of 5 digits.
	chunkSize = 5
	// fingerprintSize is the part of the iterated hash that a safety number
	// keeps: 30 bytes make the digits, 32 bytes go into the QR code.
	fingerprintSize = 32
)

// fingerprint is one identity's iterated hash, truncated to fingerprintSize.
type fingerprint [fingerprintSize]byte

// computeFingerprint returns the iterated hash of one identity, as Signal's
// NumericFingerprintGenerator does: h = SHA-512(version ‖ key ‖ id ‖ key),
// then h = SHA-512(h ‖ key), for iterations hashes in all.
func computeFingerprint(key, stableID []byte) fingerprint {
	var version [2]byte
	binary.BigEndian.PutUint16(version[:], fingerprintVersion)

	h := sha512.New()
	h.Write(version[:])
	h.Write(key)
	h.Write(stableID)
	h.Write(key)
	var sum [sha512.Size]byte
	h.Sum(sum[:0])
	for i := 1; i < iterations; i++ {
		h.Reset()
		h.Write(sum[:])
		h.Write(key)
		h.Sum(sum[:0])
	}
	var fp fingerprint
	copy(fp[:], sum[:])
	return fp
}

// appendDigits appends the 30 digits of a fingerprint: six 5-byte chunks,
// each read as a big-endian integer and reduced mod 100000, written as five
// digits with leading zeroes.
func appendDigits(dst []byte, fp fingerprint) []byte {
	for i := 0; i < digitsPerHalf/5; i++ {
		var v uint64
		for _, b := range fp[i*chunkSize : (i+1)*chunkSize] {
			v = v<<8 | uint64(b)
		}
		v %= 100000
		for div := uint64(10000); div > 0; div /= 10 {
			dst = append(dst, byte('0'+v/div%10))
		}
	}
	return dst
}
