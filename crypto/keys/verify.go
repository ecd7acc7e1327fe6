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

// Signing, too, goes through voi: the speaker signs every line of a room
// before it publishes, and voi's fixed-base multiplication takes half of
// crypto/ed25519's time. Ed25519 signatures are deterministic, so the two
// must give the same bytes; a differential test and fuzzer hold voi to it.

// sign returns priv's Ed25519 signature of msg. priv is crypto/ed25519's
// 64-byte form (seed and public key), which is voi's too.
func sign(priv []byte, msg []byte) []byte {
	return voi.Sign(voi.PrivateKey(priv), msg)
}

// verifyOptions makes voi judge signatures as crypto/ed25519 does.
var verifyOptions = &voi.Options{Verify: voi.VerifyOptionsStdLib}

// expandedKeyCache is how many decompressed public keys are kept: the
// speakers and members a node hears from. Each is about 200 bytes.
const expandedKeyCache = 1024

// expandedKeys holds the decompressed form of recently used keys, so a
// room's speaker's key is decompressed once, not on every line.
var expandedKeys = mustLRU[*hotKey](expandedKeyCache)

// mustLRU makes an LRU cache of size entries by public key.
func mustLRU[V any](size int) *lru.Cache[PublicKey, V] {
	c, err := lru.New[PublicKey, V](size)
	if err != nil {
		panic(err) // only for a size below 1
	}
	return c
}

// verify reports whether sig is pk's Ed25519 signature of msg. A key in
// steady use is checked with its fixed-base table (table.go), others with
// their cached expanded form.
func verify(pk PublicKey, msg, sig []byte) bool {
	if t, ok := keyTables.Get(pk); ok {
		return t.verify(msg, sig)
	}
	hk, ok := expandedKeys.Get(pk)
	if !ok {
		x, err := voi.NewExpandedPublicKey(voi.PublicKey(pk[:]))
		if err != nil {
			return false // not a point on the curve: no signature verifies
		}
		hk = &hotKey{x: x}
		expandedKeys.Add(pk, hk)
	}
	// Every tableAfter uses, a key without a table gets one: once when it
	// turns hot, and again only as often if the table cache evicted it.
	if hk.uses.Add(1)%tableAfter == 0 {
		if t := newKeyTable(pk); t != nil {
			keyTables.Add(pk, t)
		}
	}
	return voi.VerifyExpandedWithOptions(hk.x, msg, sig, verifyOptions)
}
