package safety

import (
	"bytes"
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

// publicFromSeed returns the identity whose RFC 8032 seed is 32 bytes of b.
func publicFromSeed(tb testing.TB, b byte) keys.PublicKey {
	tb.Helper()
	sk, err := keys.PrivateKeyFromSeed(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return sk.Public()
}

func mustNumber(tb testing.TB, a, b keys.PublicKey) SafetyNumber {
	tb.Helper()
	sn, err := Number(a, b)
	if err != nil {
		tb.Fatalf("Number(%s, %s): %v", a, b, err)
	}
	return sn
}
