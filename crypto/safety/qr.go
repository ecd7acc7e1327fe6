package safety

import (
	"crypto/subtle"
	"fmt"
)

// QRVersion is the first byte of a safety number QR code.
const QRVersion = 1

// QRSize is the size of a safety number QR code's content: the version byte
// and two 32-byte fingerprints.
const QRSize = 1 + 2*fingerprintSize

// QRCode is the content of a scanned safety number QR code. Its zero value is
// invalid.
type QRCode struct {
	lower, higher fingerprint
}

// QR returns the content of the QR code to show: QRVersion ‖ the
// fingerprint of the lower key ‖ the fingerprint of the higher key. Both
// sides of a conversation show the same bytes. It returns nil for the zero
// value.
func (sn SafetyNumber) QR() []byte {
	if sn.IsZero() {
		return nil
	}
	return QRCode(sn).Bytes()
}

// MatchesQR reports, in constant time, whether a scanned QR code shows the
// same safety number as sn. It is false for a zero sn or code.
func (sn SafetyNumber) MatchesQR(code QRCode) bool {
	if sn.IsZero() || code.IsZero() {
		return false
	}
	return subtle.ConstantTimeCompare(QRCode(sn).Bytes(), code.Bytes()) == 1
}

// ParseQR decodes scanned QR content made by SafetyNumber.QR.
func ParseQR(b []byte) (QRCode, error) {
	if len(b) != QRSize {
		return QRCode{}, fmt.Errorf("%w: %d bytes, want %d", ErrBadQR, len(b), QRSize)
	}
	if b[0] != QRVersion {
		return QRCode{}, fmt.Errorf("%w: version %d, want %d", ErrBadQR, b[0], QRVersion)
	}
	var code QRCode
	copy(code.lower[:], b[1:1+fingerprintSize])
	copy(code.higher[:], b[1+fingerprintSize:])
	var zero fingerprint
	if code.lower == zero || code.higher == zero {
		return QRCode{}, fmt.Errorf("%w: zero fingerprint", ErrBadQR)
	}
	if code.lower == code.higher {
		return QRCode{}, fmt.Errorf("%w: both fingerprints are the same", ErrBadQR)
	}
	return code, nil
}

// IsZero reports whether code is the zero value.
func (code QRCode) IsZero() bool { return code == QRCode{} }

// Bytes returns the QR content, as SafetyNumber.QR does.
func (code QRCode) Bytes() []byte {
	b := make([]byte, 0, QRSize)
	b = append(b, QRVersion)
	b = append(b, code.lower[:]...)
	return append(b, code.higher[:]...)
}
