package aead

import (
	"bytes"
	"encoding/hex"
	"errors"
	"testing"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/backchannel/backchannel/crypto/internal/kdf"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// draft-irtf-cfrg-xchacha-03, appendix A.3.1: the AEAD we build on.
func TestXChaCha20Poly1305Draft(t *testing.T) {
	key := unhex(t, "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f")
	nonce := unhex(t, "404142434445464748494a4b4c4d4e4f5051525354555657")
	ad := unhex(t, "50515253c0c1c2c3c4c5c6c7")
	pt := []byte("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.")
	want := "bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b4522f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e" +
		"c0875924c1c7987947deafd8780acf49"
	c, err := chacha20poly1305.NewX(key)
	if err != nil {
		t.Fatal(err)
	}
	got := c.Seal(nil, nonce, pt, ad)
	if hex.EncodeToString(got) != want {
		t.Fatalf("ciphertext‖tag = %x\nwant %s", got, want)
	}
	back, err := c.Open(nil, nonce, got, ad)
	if err != nil || !bytes.Equal(back, pt) {
		t.Fatalf("Open = %q, %v", back, err)
	}
}

func TestSealOpen(t *testing.T) {
	var mk kdf.Key
	mk[0] = 7
	ct := Seal(mk, "test", []byte("hello"), []byte("ad"))
	if len(ct) != len("hello")+Overhead {
		t.Fatalf("ciphertext is %d bytes", len(ct))
	}
	pt, err := Open(mk, "test", ct, []byte("ad"))
	if err != nil || string(pt) != "hello" {
		t.Fatalf("Open = %q, %v", pt, err)
	}
	var other kdf.Key
	flipped := append([]byte(nil), ct...)
	flipped[0] ^= 1
	tests := []struct {
		name  string
		mk    kdf.Key
		label string
		ct    []byte
		ad    string
	}{
		{"wrong key", other, "test", ct, "ad"},
		{"wrong label", mk, "other", ct, "ad"},
		{"wrong ad", mk, "test", ct, "ae"},
		{"flipped bit", mk, "test", flipped, "ad"},
		{"truncated", mk, "test", ct[:len(ct)-1], "ad"},
	}
	for _, tc := range tests {
		if _, err := Open(tc.mk, tc.label, tc.ct, []byte(tc.ad)); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: err = %v, want ErrOpen", tc.name, err)
		}
	}
}
