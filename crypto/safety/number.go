package safety

import (
	"bytes"
	"fmt"

	"github.com/backchannel/backchannel/crypto/keys"
)

// DigitCount is the number of digits in a safety number.
const DigitCount = 2 * digitsPerHalf

// SafetyNumber is the safety number of two identities. It is the same
// whichever identity is given first. Its zero value is invalid (see IsZero).
type SafetyNumber struct {
	// lower and higher are the fingerprints of the identities whose key
	// bytes sort lower and higher.
	lower, higher fingerprint
}

// Number computes the safety number of identities a and b. It fails for a
// zero key and for a == b.
func Number(a, b keys.PublicKey) (SafetyNumber, error) {
	if a.IsZero() || b.IsZero() {
		return SafetyNumber{}, fmt.Errorf("%w: cannot compute a safety number", ErrZeroKey)
	}
	if a == b {
		return SafetyNumber{}, fmt.Errorf("%w: %s", ErrSameKey, a)
	}
	if bytes.Compare(a[:], b[:]) > 0 {
		a, b = b, a
	}
	return SafetyNumber{lower: identityFingerprint(a), higher: identityFingerprint(b)}, nil
}

// identityFingerprint is the fingerprint of one identity: its 32 key bytes,
// with its peer ID bytes as Signal's stable identifier.
func identityFingerprint(pk keys.PublicKey) fingerprint {
	return computeFingerprint(pk[:], []byte(pk.PeerID()))
}

// IsZero reports whether sn is the zero value.
func (sn SafetyNumber) IsZero() bool { return sn == SafetyNumber{} }

// Digits returns the 60 digits with no separators, or "" for the zero value.
func (sn SafetyNumber) Digits() string {
	if sn.IsZero() {
		return ""
	}
	b := make([]byte, 0, DigitCount)
	b = appendDigits(b, sn.lower)
	b = appendDigits(b, sn.higher)
	return string(b)
}

// String returns the 60 digits as twelve groups of five separated by spaces,
// the form shown to users.
func (sn SafetyNumber) String() string {
	if sn.IsZero() {
		return "safety.SafetyNumber(zero)"
	}
	d := sn.Digits()
	b := make([]byte, 0, DigitCount+DigitCount/5-1)
	for i := 0; i < len(d); i += 5 {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, d[i:i+5]...)
	}
	return string(b)
}
