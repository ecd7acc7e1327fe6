package keys

import (
	"crypto/sha512"
	"crypto/subtle"
	"sync/atomic"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
	voi "github.com/oasisprotocol/curve25519-voi/primitives/ed25519"
)

// A room's speaker signs every line and every listener checks every one, so
// a key in steady use gets a fixed-base table of -A (32×8 precomputed
// multiples, about 40 KB, 0.1 ms to build). Then [k](-A) costs what the
// basepoint multiplication [S]B costs, with no doublings: a check takes about
// 24 µs against the expanded key's 37 µs. The equation and every acceptance
// rule are those of crypto/ed25519 (and voi's StdLib preset); the
// differential test and fuzzer run both paths against crypto/ed25519.

const (
	// tableAfter is how many checks a key gets before its table is built:
	// a key heard once (a contact's prekey, a stranger's request) never
	// pays for one.
	tableAfter = 16
	// tableCache bounds the keys with a table (speakers heard now).
	tableCache = 64
)

// hotKey is a cached expanded key and how often it was used.
type hotKey struct {
	x    *voi.ExpandedPublicKey
	uses atomic.Int64
}

// keyTable is a key's encoding and the fixed-base table of its negation.
type keyTable struct {
	a    PublicKey
	negA *curve.EdwardsBasepointTable
}

var keyTables = mustLRU[*keyTable](tableCache)

// newKeyTable builds pk's table, or returns nil if pk is not a point.
func newKeyTable(pk PublicKey) *keyTable {
	var c curve.CompressedEdwardsY
	if _, err := c.SetBytes(pk[:]); err != nil {
		return nil
	}
	var a curve.EdwardsPoint
	if _, err := a.SetCompressedY(&c); err != nil {
		return nil
	}
	var negA curve.EdwardsPoint
	negA.Neg(&a)
	return &keyTable{a: pk, negA: curve.NewEdwardsBasepointTable(&negA)}
}

// verify reports whether sig is t.a's Ed25519 signature of msg, by
// crypto/ed25519's rules: S canonical, R' = [S]B + [k](-A) with
// k = SHA-512(R || A || msg) mod L, and R' encoded equal to R's bytes (so a
// non-canonical R never verifies).
func (t *keyTable) verify(msg, sig []byte) bool {
	if len(sig) != SignatureSize {
		return false
	}
	var s scalar.Scalar
	if _, err := s.SetCanonicalBytes(sig[32:]); err != nil {
		return false
	}
	h := sha512.New()
	h.Write(sig[:32])
	h.Write(t.a[:])
	h.Write(msg)
	var digest [64]byte
	h.Sum(digest[:0])
	var k scalar.Scalar
	if _, err := k.SetBytesModOrderWide(digest[:]); err != nil {
		return false
	}
	var r, kNegA curve.EdwardsPoint
	r.MulBasepoint(curve.ED25519_BASEPOINT_TABLE, &s)
	kNegA.MulBasepoint(t.negA, &k)
	r.Add(&r, &kNegA)
	var enc curve.CompressedEdwardsY
	enc.SetEdwardsPoint(&r)
	return subtle.ConstantTimeCompare(enc[:], sig[:32]) == 1
}
