package safety

import (
	"bytes"
	"errors"
	"testing"
)

func mustParseQR(tb testing.TB, b []byte) QRCode {
	tb.Helper()
	code, err := ParseQR(b)
	if err != nil {
		tb.Fatalf("ParseQR(%x): %v", b, err)
	}
	return code
}

func TestQRRoundTrip(t *testing.T) {
	alice, bob := publicFromSeed(t, 0x0a), publicFromSeed(t, 0x0b)
	onAlice, onBob := mustNumber(t, alice, bob), mustNumber(t, bob, alice)

	shown := onAlice.QR()
	if len(shown) != QRSize || shown[0] != QRVersion {
		t.Fatalf("QR = %x, want %d bytes starting with %d", shown, QRSize, QRVersion)
	}
	if !bytes.Equal(shown, onBob.QR()) {
		t.Fatalf("the two sides show different QR codes: %x and %x", shown, onBob.QR())
	}
	code := mustParseQR(t, shown)
	if !bytes.Equal(code.Bytes(), shown) {
		t.Errorf("Bytes = %x, want %x", code.Bytes(), shown)
	}
	if !onBob.MatchesQR(code) || !onAlice.MatchesQR(code) {
		t.Error("a scanned QR code does not match the safety number it shows")
	}
}

func TestQRMismatch(t *testing.T) {
	alice, bob, mallory := publicFromSeed(t, 0x0a), publicFromSeed(t, 0x0b), publicFromSeed(t, 0x0c)
	// Mallory sits in the middle: Alice holds Mallory's key for Bob, Bob
	// holds Mallory's key for Alice.
	onAlice, onBob := mustNumber(t, alice, mallory), mustNumber(t, bob, mallory)
	if onBob.MatchesQR(mustParseQR(t, onAlice.QR())) || onAlice.MatchesQR(mustParseQR(t, onBob.QR())) {
		t.Error("QR codes match across a man in the middle")
	}
	good := mustParseQR(t, mustNumber(t, alice, bob).QR())
	if (SafetyNumber{}).MatchesQR(good) {
		t.Error("zero SafetyNumber matches a QR code")
	}
	if mustNumber(t, alice, bob).MatchesQR(QRCode{}) {
		t.Error("zero QRCode matches a safety number")
	}
	// A code with the halves swapped is a different code.
	shown := mustNumber(t, alice, bob).QR()
	swapped := append([]byte{QRVersion}, shown[1+fingerprintSize:]...)
	swapped = append(swapped, shown[1:1+fingerprintSize]...)
	if mustNumber(t, alice, bob).MatchesQR(mustParseQR(t, swapped)) {
		t.Error("QR code with swapped halves matches")
	}
}

func TestParseQRRejects(t *testing.T) {
	valid := mustNumber(t, publicFromSeed(t, 1), publicFromSeed(t, 2)).QR()
	with := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(valid)) }
	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"one byte short", valid[:QRSize-1]},
		{"one byte long", append(bytes.Clone(valid), 0)},
		{"version zero", with(func(b []byte) []byte { b[0] = 0; return b })},
		{"version two", with(func(b []byte) []byte { b[0] = 2; return b })},
		{"zero lower", with(func(b []byte) []byte { clear(b[1 : 1+fingerprintSize]); return b })},
		{"zero higher", with(func(b []byte) []byte { clear(b[1+fingerprintSize:]); return b })},
		{"same halves", with(func(b []byte) []byte { copy(b[1+fingerprintSize:], b[1:1+fingerprintSize]); return b })},
	}
	for _, tc := range tests {
		if code, err := ParseQR(tc.in); !errors.Is(err, ErrBadQR) || !code.IsZero() {
			t.Errorf("%s: ParseQR = %v, %v; want ErrBadQR and a zero code", tc.name, code, err)
		}
	}
}

func FuzzParseQR(f *testing.F) {
	f.Add(mustNumber(f, publicFromSeed(f, 1), publicFromSeed(f, 2)).QR())
	f.Add(mustNumber(f, publicFromSeed(f, 3), publicFromSeed(f, 4)).QR())
	f.Add([]byte{})
	f.Add([]byte{QRVersion})
	f.Fuzz(func(t *testing.T, data []byte) {
		code, err := ParseQR(data)
		if err != nil {
			if !errors.Is(err, ErrBadQR) {
				t.Fatalf("error %v is not ErrBadQR", err)
			}
			return
		}
		enc := code.Bytes()
		if !bytes.Equal(enc, data) {
			t.Fatalf("accepted %x re-encodes to %x", data, enc)
		}
		back, err := ParseQR(enc)
		if err != nil || back != code {
			t.Fatalf("re-encoded code does not decode to the same value: %v", err)
		}
	})
}
