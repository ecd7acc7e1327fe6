package keys

import (
	lru "github.com/hashicorp/golang-lru/v2"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// Signatures are verified with curve25519-voi rather than crypto/ed25519:
// every node of a live room verifies every message it relays, so
// verification is most of a room's CPU, and voi takes about half the time
// (its table-based double scalar multiplication, and keys decompressed once
// and cached). Its StdLib preset accepts and rejects exactly what
// crypto/ed25519 does (cofactorless, canonical S, any A); a differential
// test and fuzzer hold it to that.

// verifyOptions makes voi judge signatures as crypto/ed25519 does.
var verifyOptions = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// expandedKeyCache is how many decompressed public keys are kept: the
// speakers and members a node hears from. Each is about 200 bytes.
const expandedKeyCache = 1024

// expandedKeys holds the decompressed form of recently used keys, so a
// room's speaker's key is decompressed once, not on every line.
var expandedKeys = mustLRU(expandedKeyCache)

func mustLRU(size int) *lru.Cache[PublicKey, *voi.ExpandedPublicKey] {
	c, err := lru.New[PublicKey, *voi.ExpandedPublicKey](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return c
}

// verify reports whether sig is pk's Ed25519 signature of msg.
func verify(pk PublicKey, msg, sig []byte) bool {
	x, ok := expandedKeys.Get(pk)
	if !ok {
		var err error
		if x, err = voi.NewExpandedPublicKey(voi.PublicKey(pk[:])); err != nil {
			return false // not a point on the curve: no signature verifies
		}
		expandedKeys.Add(pk, x)
	}
	return voi.VerifyExpandedWithOptions(x, msg, sig, verifyOptions)
}
