package kdf

import (
	"encoding/hex"
	"testing"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 5869, appendix A, test cases 1 and 3 (SHA-256).
func TestHKDFRFC5869(t *testing.T) {
	tests := []struct {
		name            string
		ikm, salt, info string
		length          int
		okm             string
	}{
		{
			"case 1", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9", 42,
			"3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865",
		},
		{
			"case 3", "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "", 42,
			"8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
		},
	}
	for _, tc := range tests {
		got := HKDF(unhex(t, tc.ikm), unhex(t, tc.salt), string(unhex(t, tc.info)), tc.length)
		if hex.EncodeToString(got) != tc.okm {
			t.Errorf("%s: OKM = %x, want %s", tc.name, got, tc.okm)
		}
	}
}

func TestChainStepDistinct(t *testing.T) {
	var ck Key
	seen := map[Key]bool{}
	for range 1000 {
		next, mk := ChainStep(ck)
		if seen[next] || seen[mk] || next == mk {
			t.Fatal("chain step repeated a key")
		}
		seen[next], seen[mk] = true, true
		ck = next
	}
}

func BenchmarkChainStep(b *testing.B) {
	var ck Key
	for b.Loop() {
		ck, _ = ChainStep(ck)
	}
}
