package group

import (
	"bytes"
	"fmt"
)

// PaddedSizes are the only sizes a sealed plaintext has: a message is padded
// to the smallest that holds it and one more byte, so that its ciphertext
// tells an observer (a member of another epoch, a relay of sync traffic) a
// size class rather than its length. Small messages (texts, reactions,
// receipts) all look alike.
var PaddedSizes = [...]int{256, 1 << 10, 4 << 10, 16 << 10, maxPadded}

// maxPadded is the largest padded size.
const maxPadded = 64 << 10

// pad appends 0x80 and then zeros up to the first of PaddedSizes that holds
// len(p)+1 bytes (ISO/IEC 7816-4 padding). p must be at most MaxPlaintext.
func pad(p []byte) []byte {
	n := maxPadded
	for _, size := range PaddedSizes {
		if len(p) < size {
			n = size
			break
		}
	}
	out := make([]byte, n)
	copy(out, p)
	out[len(p)] = 0x80
	return out
}

// unpad undoes pad: it strips the trailing zeros and the 0x80 before them,
// and refuses a plaintext of a size pad does not make.
func unpad(p []byte) ([]byte, error) {
	sized := false
	for _, size := range PaddedSizes {
		sized = sized || len(p) == size
	}
	i := bytes.LastIndexByte(p, 0x80)
	if !sized || i < 0 || !allZero(p[i+1:]) {
		return nil, fmt.Errorf("%w: padding of a %d-byte plaintext", ErrMalformed, len(p))
	}
	return p[:i], nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
