package safety

import "testing"

// BenchmarkNumber computes a safety number: 2 × 5200 SHA-512 evaluations.
func BenchmarkNumber(b *testing.B) {
	a, c := publicFromSeed(b, 1), publicFromSeed(b, 2)
	for b.Loop() {
		if _, err := Number(a, c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMatchesQR parses a scanned code and compares it.
func BenchmarkMatchesQR(b *testing.B) {
	sn, err := Number(publicFromSeed(b, 1), publicFromSeed(b, 2))
	if err != nil {
		b.Fatal(err)
	}
	shown := sn.QR()
	for b.Loop() {
		code, err := ParseQR(shown)
		if err != nil || !sn.MatchesQR(code) {
			b.Fatal("no match")
		}
	}
}
