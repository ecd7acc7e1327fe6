// Package kdf holds the key derivation functions shared by Backchannel's
// protocols: HKDF-SHA256 (RFC 5869) and the HMAC-SHA256 chain step of the
// Double Ratchet's symmetric-key ratchet.
package kdf

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
)

// Key is a 32-byte symmetric secret.
type Key [32]byte

// String never prints the secret.
func (Key) String() string { return "kdf.Key(redacted)" }

// GoString never prints the secret.
func (k Key) GoString() string { return k.String() }

// HKDF derives n bytes with HKDF-SHA256.
func HKDF(secret, salt []byte, info string, n int) []byte {
	out, err := hkdf.Key(sha256.New, secret, salt, info, n)
	if err != nil {
		panic(err) // only for n beyond 255*32, a programming error
	}
	return out
}

// HKDF2 derives two keys with HKDF-SHA256.
func HKDF2(secret, salt []byte, info string) (Key, Key) {
	out := HKDF(secret, salt, info, 64)
	var a, b Key
	copy(a[:], out[:32])
	copy(b[:], out[32:])
	return a, b
}

// ChainStep advances a symmetric chain: it returns the next chain key,
// HMAC(ck, 0x02), and the message key for this step, HMAC(ck, 0x01), as in
// the Signal Double Ratchet specification.
func ChainStep(ck Key) (next, mk Key) {
	h := hmac.New(sha256.New, ck[:])
	h.Write([]byte{0x01})
	h.Sum(mk[:0])
	h.Reset()
	h.Write([]byte{0x02})
	h.Sum(next[:0])
	return next, mk
}
