package safety

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// TestSignalVectors checks the fingerprint construction and the digit
// encoding against libsignal's public test vector (rust/protocol/src/
// fingerprint.rs, fingerprint_test_v1): two Curve25519 identity keys in
// Signal's 33-byte encoding, phone numbers as stable identifiers, 5200
// iterations. Signal orders the two halves by their digit strings; the
// scannable form carries the first 32 bytes of each iterated hash.
func TestSignalVectors(t *testing.T) {
	alice := computeFingerprint(
		unhex(t, "0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868"),
		[]byte("+14152222222"))
	bob := computeFingerprint(
		unhex(t, "05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b"),
		[]byte("+14153333333"))

	if want := unhex(t, "1e301a0353dce3dbe7684cb8336e85136cdc0ee96219494ada305d62a7bd61df"); !bytes.Equal(alice[:], want) {
		t.Errorf("alice fingerprint = %x, want %x", alice, want)
	}
	if want := unhex(t, "d62cbf73a11592015b6b9f1682ac306fea3aaf3885b84d12bca631e9d4fb3a4d"); !bytes.Equal(bob[:], want) {
		t.Errorf("bob fingerprint = %x, want %x", bob, want)
	}

	a, b := string(appendDigits(nil, alice)), string(appendDigits(nil, bob))
	if a > b {
		a, b = b, a
	}
	const want = "300354477692869396892869876765458257569162576843440918079131"
	if got := a + b; got != want {
		t.Errorf("displayable fingerprint = %s, want %s", got, want)
	}
}

func TestAppendDigits(t *testing.T) {
	tests := []struct {
		name string
		fp   fingerprint
		want string
	}{
		{"zero", fingerprint{}, "000000000000000000000000000000"},
		// 0xffffffffff = 1099511627775, mod 100000 = 27775.
		{"all ones", fingerprint(bytes.Repeat([]byte{0xff}, 32)), "277752777527775277752777527775"},
		// Chunk 0 is 0x0000000001 = 1 (leading zeroes kept); chunk 1 is
		// 0x00000186a0 = 100000 = 0 mod 100000; chunk 2 is 0x000001869f = 99999.
		// Bytes 30 and 31 do not count.
		{"chunks", fingerprint{0, 0, 0, 0, 1, 0, 0, 0x01, 0x86, 0xa0, 0, 0, 0x01, 0x86, 0x9f, 30: 0xff, 31: 0xff}, "000010000099999000000000000000"},
	}
	for _, tc := range tests {
		if got := string(appendDigits(nil, tc.fp)); got != tc.want {
			t.Errorf("%s: digits = %s, want %s", tc.name, got, tc.want)
		}
	}
}
