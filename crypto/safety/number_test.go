package safety

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

// TestKnownAnswer pins the safety number of the identities with seeds 32×0x01
// and 32×0x02. The expected values were computed independently in Python
// (hashlib.sha512, the construction written out from Signal's description,
// peer ID bytes 0x0024080112 20 ‖ key).
func TestKnownAnswer(t *testing.T) {
	a, b := publicFromSeed(t, 0x01), publicFromSeed(t, 0x02)
	sn := mustNumber(t, a, b)
	const digits = "977879141533976317082040585591517585453582899484146321634538"
	if got := sn.Digits(); got != digits {
		t.Errorf("Digits = %s, want %s", got, digits)
	}
	const str = "97787 91415 33976 31708 20405 85591 51758 54535 82899 48414 63216 34538"
	if got := sn.String(); got != str {
		t.Errorf("String = %q, want %q", got, str)
	}
	const qr = "01" +
		"783fdb149b9af6790b17c5fb30c23882498575dc4ab040db75fa16472637e65a" + // seed 0x02's key sorts lower
		"e2155be0cedf3517ba87c5699a63133f0524f79ed84b039a304ebc51ec0af21c"
	if got := fmt.Sprintf("%x", sn.QR()); got != qr {
		t.Errorf("QR = %s, want %s", got, qr)
	}
}

func TestSymmetricAndWellFormed(t *testing.T) {
	for i := 0; i < 8; i++ {
		a, b := keys.GeneratePrivateKey().Public(), keys.GeneratePrivateKey().Public()
		ab, ba := mustNumber(t, a, b), mustNumber(t, b, a)
		if ab != ba {
			t.Fatalf("Number(a, b) = %s, Number(b, a) = %s", ab, ba)
		}
		d := ab.Digits()
		if len(d) != DigitCount || strings.Trim(d, "0123456789") != "" {
			t.Fatalf("Digits = %q, want %d decimal digits", d, DigitCount)
		}
		groups := strings.Split(ab.String(), " ")
		if len(groups) != 12 || strings.Join(groups, "") != d {
			t.Fatalf("String = %q, want the digits in 12 groups", ab.String())
		}
		for _, g := range groups {
			if len(g) != 5 {
				t.Fatalf("String = %q has a group %q", ab.String(), g)
			}
		}
	}
}

func TestChangesWithEitherKey(t *testing.T) {
	a, b, c := publicFromSeed(t, 0x01), publicFromSeed(t, 0x02), publicFromSeed(t, 0x03)
	ab := mustNumber(t, a, b)
	for _, other := range []SafetyNumber{mustNumber(t, c, b), mustNumber(t, a, c)} {
		if other.Digits() == ab.Digits() {
			t.Errorf("safety number unchanged when a key changed: %s", ab)
		}
		if other.MatchesQR(mustParseQR(t, ab.QR())) {
			t.Errorf("QR of %s matches %s", ab, other)
		}
	}
	// Each identity contributes its own half: replacing b keeps a's half.
	ac := mustNumber(t, a, c)
	if !strings.Contains(ac.Digits(), halfOf(t, a)) || !strings.Contains(ab.Digits(), halfOf(t, a)) {
		t.Errorf("a's half %s missing from %s or %s", halfOf(t, a), ab, ac)
	}
}

// halfOf returns the 30 digits that identity pk contributes.
func halfOf(tb testing.TB, pk keys.PublicKey) string {
	tb.Helper()
	return string(appendDigits(nil, identityFingerprint(pk)))
}

func TestNumberRejects(t *testing.T) {
	a := publicFromSeed(t, 0x01)
	tests := []struct {
		name string
		a, b keys.PublicKey
		want error
	}{
		{"zero first", keys.PublicKey{}, a, ErrZeroKey},
		{"zero second", a, keys.PublicKey{}, ErrZeroKey},
		{"both zero", keys.PublicKey{}, keys.PublicKey{}, ErrZeroKey},
		{"same key", a, a, ErrSameKey},
	}
	for _, tc := range tests {
		sn, err := Number(tc.a, tc.b)
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Number = %v, want %v", tc.name, err, tc.want)
		}
		if !sn.IsZero() {
			t.Errorf("%s: Number returned a non-zero value with an error", tc.name)
		}
	}
}

func TestZeroValue(t *testing.T) {
	var sn SafetyNumber
	if !sn.IsZero() || sn.Digits() != "" || sn.QR() != nil || sn.String() != "safety.SafetyNumber(zero)" {
		t.Errorf("zero SafetyNumber: IsZero %v, Digits %q, QR %x, String %q", sn.IsZero(), sn.Digits(), sn.QR(), sn.String())
	}
	if mustNumber(t, publicFromSeed(t, 1), publicFromSeed(t, 2)).IsZero() {
		t.Error("a computed safety number is IsZero")
	}
}
