package stamp

import (
	"bytes"
	"encoding/hex"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
)

// now is the fixed verifier time of the tests: 2026-11-25 12:00 UTC, day 20782.
var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// publicFromSeed returns the identity whose RFC 8032 seed is 32 bytes of b.
func publicFromSeed(tb testing.TB, b byte) keys.PublicKey {
	tb.Helper()
	sk, err := keys.PrivateKeyFromSeed(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		tb.Fatal(err)
	}
	return sk.Public()
}

// testContext is a fixed context: recipient from seed 0x01, sender from seed
// 0x02, message "hello".
func testContext(tb testing.TB) Context {
	return Context{
		Recipient:   publicFromSeed(tb, 0x01),
		Sender:      publicFromSeed(tb, 0x02),
		MessageHash: HashMessage([]byte("hello")),
	}
}

func unhex(tb testing.TB, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
