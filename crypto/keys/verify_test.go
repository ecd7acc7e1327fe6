package keys

import (
	"bytes"
	"compress/gzip"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"os"
	"testing"
)

// TestVerifyMatchesStdlib holds the voi verifier to crypto/ed25519's
// verdicts on C2SP's ed25519vectors (testdata/ed25519vectors.json.gz, copied
// from curve25519-voi's testdata): 768 signatures over every combination of
// low-order, non-canonical and mixed-order A and R, and non-canonical S,
// the cases where Ed25519 implementations disagree.
func TestVerifyMatchesStdlib(t *testing.T) {
	f, err := os.Open("testdata/ed25519vectors.json.gz")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var vectors []struct{ A, R, S, M string }
	if err := json.NewDecoder(zr).Decode(&vectors); err != nil {
		t.Fatal(err)
	}
	if len(vectors) < 700 {
		t.Fatalf("%d vectors, want the whole set", len(vectors))
	}
	accepted := 0
	for i, v := range vectors {
		a, r, s := unhex(t, v.A), unhex(t, v.R), unhex(t, v.S)
		var pk PublicKey
		copy(pk[:], a)
		sig := append(r, s...)
		want := ed25519.Verify(a, []byte(v.M), sig)
		for pass := range 2 { // the second pass uses the cached expanded key
			if got := verify(pk, []byte(v.M), sig); got != want {
				t.Errorf("vector %d (pass %d): voi says %v, crypto/ed25519 %v (A %s R %s S %s)", i, pass, got, want, v.A, v.R, v.S)
			}
		}
		if tb := newKeyTable(pk); tb == nil {
			if want {
				t.Errorf("vector %d: no table for A %s, which crypto/ed25519 accepts", i, v.A)
			}
		} else if got := tb.verify([]byte(v.M), sig); got != want {
			t.Errorf("vector %d (key table): says %v, crypto/ed25519 %v (A %s R %s S %s)", i, got, want, v.A, v.R, v.S)
		}
		if want {
			accepted++
		}
	}
	if accepted == 0 || accepted == len(vectors) {
		t.Fatalf("crypto/ed25519 accepted %d of %d: the vectors do not test both verdicts", accepted, len(vectors))
	}
}

// FuzzVerifyMatchesStdlib: for any key, message and signature, the voi
// verifier and crypto/ed25519 agree.
func FuzzVerifyMatchesStdlib(f *testing.F) {
	priv := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
	msg := []byte("backchannel")
	f.Add([]byte(priv.Public().(ed25519.PublicKey)), msg, ed25519.Sign(priv, msg))
	f.Add(make([]byte, 32), msg, make([]byte, 64))
	zero, _ := hex.DecodeString("0100000000000000000000000000000000000000000000000000000000000000")
	f.Add(zero, msg, append(zero, make([]byte, 32)...))
	f.Fuzz(func(t *testing.T, a, msg, sig []byte) {
		if len(a) != PublicKeySize || len(sig) != SignatureSize {
			return
		}
		var pk PublicKey
		copy(pk[:], a)
		want := ed25519.Verify(a, msg, sig)
		if got := verify(pk, msg, sig); got != want {
			t.Fatalf("voi says %v, crypto/ed25519 %v", got, want)
		}
		if tb := newKeyTable(pk); tb != nil {
			if got := tb.verify(msg, sig); got != want {
				t.Fatalf("key table says %v, crypto/ed25519 %v", got, want)
			}
		} else if want {
			t.Fatal("no key table for a key crypto/ed25519 accepts")
		}
	})
}

// TestVerifyTurnsToTable: a key checked often enough gets its table, and
// the verdicts (a good signature, a forged one, another message) stay
// crypto/ed25519's before and after.
func TestVerifyTurnsToTable(t *testing.T) {
	priv := GeneratePrivateKey()
	pk := priv.Public()
	msg := []byte("a line in a busy room")
	sig := priv.Sign("room", msg)
	dm := domainMessage("room", msg)
	forged := bytes.Clone(sig)
	forged[5] ^= 1
	for i := range 2 * tableAfter {
		if !verify(pk, dm, sig) {
			t.Fatalf("check %d: a good signature fails", i)
		}
		if verify(pk, dm, forged) || verify(pk, []byte("another line"), sig) {
			t.Fatalf("check %d: a forged signature passes", i)
		}
	}
	if _, ok := keyTables.Get(pk); !ok {
		t.Fatalf("no table after %d checks", 6*tableAfter)
	}
}

// TestSignMatchesStdlib holds voi's signatures to crypto/ed25519's bytes
// over keys and messages of every length up to a few blocks of SHA-512.
func TestSignMatchesStdlib(t *testing.T) {
	for i := range 300 {
		seed := make([]byte, ed25519.SeedSize)
		seed[0], seed[1] = byte(i), byte(i>>8)
		priv := ed25519.NewKeyFromSeed(seed)
		msg := make([]byte, i)
		for j := range msg {
			msg[j] = byte(i * j)
		}
		if got, want := sign(priv, msg), ed25519.Sign(priv, msg); !bytes.Equal(got, want) {
			t.Fatalf("key %d, %d-byte message: voi signs %x, crypto/ed25519 %x", i, len(msg), got, want)
		}
	}
}

func FuzzSignMatchesStdlib(f *testing.F) {
	f.Add(make([]byte, ed25519.SeedSize), []byte("hello"))
	f.Fuzz(func(t *testing.T, seed, msg []byte) {
		if len(seed) != ed25519.SeedSize {
			return
		}
		priv := ed25519.NewKeyFromSeed(seed)
		if got, want := sign(priv, msg), ed25519.Sign(priv, msg); !bytes.Equal(got, want) {
			t.Fatalf("voi signs %x, crypto/ed25519 %x", got, want)
		}
	})
}

func BenchmarkSign(b *testing.B) {
	priv := GeneratePrivateKey()
	msg := make([]byte, 200)
	for b.Loop() {
		priv.Sign("bench", msg)
	}
}

func BenchmarkVerify(b *testing.B) {
	priv := GeneratePrivateKey()
	msg := make([]byte, 200)
	sig := priv.Sign("bench", msg)
	pk := priv.Public()
	for b.Loop() {
		if !pk.Verify("bench", msg, sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkVerifyTable(b *testing.B) {
	priv := GeneratePrivateKey()
	msg := make([]byte, 200)
	sig := priv.Sign("bench", msg)
	tb := newKeyTable(priv.Public())
	dm := domainMessage("bench", msg)
	for b.Loop() {
		if !tb.verify(dm, sig) {
			b.Fatal("does not verify")
		}
	}
}

func BenchmarkVerifyStdlib(b *testing.B) {
	priv := GeneratePrivateKey()
	msg := make([]byte, 200)
	sig := priv.Sign("bench", msg)
	pk := priv.Public()
	dm := domainMessage("bench", msg)
	for b.Loop() {
		if !ed25519.Verify(pk[:], dm, sig) {
			b.Fatal("does not verify")
		}
	}
}
