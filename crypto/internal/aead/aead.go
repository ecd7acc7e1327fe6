// Package aead seals and opens Backchannel messages with XChaCha20-Poly1305.
//
// Each message key is used once. The cipher key and the 24-byte nonce are
// derived from it with HKDF-SHA256 under a protocol label, so a message key
// never meets the cipher directly and ciphertext never needs a random nonce.
package aead

import (
	"errors"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/backchannel/backchannel/crypto/internal/kdf"
)

// Overhead is the number of bytes a sealed message adds to its plaintext.
const Overhead = chacha20poly1305.Overhead

// ErrOpen means a ciphertext failed authentication: wrong key, tampered
// ciphertext or associated data.
var ErrOpen = errors.New("aead: message authentication failed")

func cipherFor(mk kdf.Key, label string) (aeadCipher, []byte) {
	out := kdf.HKDF(mk[:], nil, label, chacha20poly1305.KeySize+chacha20poly1305.NonceSizeX)
	c, err := chacha20poly1305.NewX(out[:chacha20poly1305.KeySize])
	if err != nil {
		panic(err) // key size is fixed
	}
	return c, out[chacha20poly1305.KeySize:]
}

type aeadCipher interface {
	Seal(dst, nonce, plaintext, additionalData []byte) []byte
	Open(dst, nonce, ciphertext, additionalData []byte) ([]byte, error)
}

// Seal encrypts plaintext under the one-time message key mk, authenticating ad.
func Seal(mk kdf.Key, label string, plaintext, ad []byte) []byte {
	c, nonce := cipherFor(mk, label)
	return c.Seal(nil, nonce, plaintext, ad)
}

// Open decrypts and authenticates a ciphertext made by Seal.
func Open(mk kdf.Key, label string, ciphertext, ad []byte) ([]byte, error) {
	c, nonce := cipherFor(mk, label)
	pt, err := c.Open(nil, nonce, ciphertext, ad)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
