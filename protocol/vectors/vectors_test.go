package vectors

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ed25519"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	mathrand "math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"golang.org/x/crypto/chacha20poly1305"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/keys"
)

var update = flag.Bool("update", false, "write docs/vectors/*.json from what the code makes, instead of checking them")

// writing reports whether this run writes the vectors (-update, or
// BACKCHANNEL_VECTORS=write) rather than checks them.
func writing() bool { return *update || os.Getenv("BACKCHANNEL_VECTORS") == "write" }

// vectorDir is where the vectors live, from this package's folder.
const vectorDir = "../../docs/vectors"

// TestVectors makes every vector from its inputs and compares it with its
// file, or writes the file (see the package doc).
func TestVectors(t *testing.T) {
	for _, v := range []struct {
		file  string
		build func(t *testing.T) any
	}{
		{"keys.json", buildKeys},
		{"room.json", buildRoom},
		{"room-messages.json", buildRoomMessages},
		{"group.json", buildGroup},
		{"mailbox.json", buildMailbox},
		{"stamp.json", buildStamp},
		{"session.json", buildSession},
		{"invite.json", buildInvite},
	} {
		t.Run(strings.TrimSuffix(v.file, ".json"), func(t *testing.T) { compare(t, v.file, v.build(t)) })
	}
}

// encode is the file form of a vector: indented JSON, HTML characters
// unescaped (an invite link keeps its &), a final newline.
func encode(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// compare checks v against its file, or writes it when writing.
func compare(t *testing.T, file string, v any) {
	t.Helper()
	if t.Failed() {
		return // a cross-check failed: the vector is not worth writing or diffing
	}
	got, err := encode(v)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(vectorDir, file)
	if writing() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", path)
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (to write the vectors: go test ./protocol/vectors -run Vectors -update)", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("%s is not what the code makes now; where they differ (file, then code):\n%s\n"+
		"If the wire changed on purpose, write the vectors again (go test ./protocol/vectors -run Vectors -update), "+
		"review their diff and update docs/PROTOCOL.md.", path, jsonDiff(want, got))
}

// jsonDiff lists the paths where two JSON documents differ, at most 20.
func jsonDiff(want, got []byte) string {
	var a, b any
	if json.Unmarshal(want, &a) != nil || json.Unmarshal(got, &b) != nil {
		return "(not both JSON)"
	}
	var out []string
	var walk func(path string, a, b any)
	walk = func(path string, a, b any) {
		if len(out) >= 20 || reflect.DeepEqual(a, b) {
			return
		}
		switch x := a.(type) {
		case map[string]any:
			y, ok := b.(map[string]any)
			if !ok {
				break
			}
			names := map[string]bool{}
			for k := range x {
				names[k] = true
			}
			for k := range y {
				names[k] = true
			}
			sorted := make([]string, 0, len(names))
			for k := range names {
				sorted = append(sorted, k)
			}
			sort.Strings(sorted)
			for _, k := range sorted {
				walk(path+"."+k, x[k], y[k])
			}
			return
		case []any:
			y, ok := b.([]any)
			if !ok || len(x) != len(y) {
				break
			}
			for i := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), x[i], y[i])
			}
			return
		}
		out = append(out, fmt.Sprintf("  %s:\n    file: %v\n    code: %v", path, short(a), short(b)))
	}
	walk("$", a, b)
	if len(out) == 0 {
		return "  (same values, different formatting)"
	}
	return strings.Join(out, "\n")
}

func short(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// Byte helpers: vectors write bytes in lowercase hex.

func hx(b []byte) string { return hex.EncodeToString(b) }

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// label32 is SHA-256 of a label: how the vectors make fixed secrets, so
// that each one has a name.
func label32(label string) []byte {
	h := sha256.Sum256([]byte(label))
	return h[:]
}

func cat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// The canonical encoding (crypto/internal/canon), written again here from
// docs/PROTOCOL.md: a variable-length field is its length as a 4-byte
// big-endian integer and its bytes; an integer is 8 bytes big-endian.

func cstr(s string) []byte { return cbytes([]byte(s)) }

func cbytes(b []byte) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(b))), b...) }

func u64(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }

func i64(v int64) []byte { return u64(uint64(v)) }

// signingInput is what Ed25519 signs for a signature in a domain:
// "backchannel" ‖ len(domain) as one byte ‖ domain ‖ message.
func signingInput(domain string, msg []byte) []byte {
	return cat([]byte("backchannel"), []byte{byte(len(domain))}, []byte(domain), msg)
}

// checkSigned checks that sig is signer's signature of msg in domain,
// signed over exactly these bytes: Ed25519 is deterministic, so signing
// them here must give the code's signature.
func checkSigned(t *testing.T, what string, signer keys.PrivateKey, domain string, msg, sig []byte) {
	t.Helper()
	priv := ed25519.NewKeyFromSeed(signer.Seed())
	if want := ed25519.Sign(priv, signingInput(domain, msg)); !bytes.Equal(want, sig) {
		t.Errorf("%s: the code's signature is not over the documented signed bytes in domain %q", what, domain)
	}
}

// hkdfKey is HKDF-SHA256.
func hkdfKey(t *testing.T, secret, salt []byte, info string, n int) []byte {
	t.Helper()
	out, err := hkdf.Key(sha256.New, secret, salt, info, n)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// chainStep is the symmetric ratchet step: the next chain key is
// HMAC-SHA256(ck, 0x02), the message key HMAC-SHA256(ck, 0x01).
func chainStep(ck []byte) (next, mk []byte) {
	h := hmac.New(sha256.New, ck)
	h.Write([]byte{1})
	mk = h.Sum(nil)
	h = hmac.New(sha256.New, ck)
	h.Write([]byte{2})
	return h.Sum(nil), mk
}

// aeadOf derives a one-time message key's XChaCha20-Poly1305 key and
// 24-byte nonce: HKDF-SHA256(mk, no salt, label), 56 bytes.
func aeadOf(t *testing.T, mk []byte, label string) (key, nonce []byte) {
	out := hkdfKey(t, mk, nil, label, chacha20poly1305.KeySize+chacha20poly1305.NonceSizeX)
	return out[:chacha20poly1305.KeySize], out[chacha20poly1305.KeySize:]
}

func xseal(t *testing.T, key, nonce, pt, ad []byte) []byte {
	t.Helper()
	c, err := chacha20poly1305.NewX(key)
	if err != nil {
		t.Fatal(err)
	}
	return c.Seal(nil, nonce, pt, ad)
}

// x25519 is the X25519 function of a private scalar and a public key.
func x25519(t *testing.T, priv, pub []byte) []byte {
	t.Helper()
	k, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	p, err := ecdh.X25519().NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	s, err := k.ECDH(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func x25519Public(t *testing.T, priv []byte) []byte {
	t.Helper()
	k, err := ecdh.X25519().NewPrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().Bytes()
}

// Randomness. Where the code draws random bytes itself, the vector fixes
// crypto/rand to a ChaCha8 stream (cryptotest.SetGlobalRandom) and records
// the bytes drawn.

// fixRandom makes crypto/rand deterministic from seed for the rest of t
// (or until the next call).
func fixRandom(t *testing.T, seed uint64) { cryptotest.SetGlobalRandom(t, seed) }

// randomStream returns the first n bytes fixRandom(seed) hands out, in
// order: the ChaCha8 stream of the seed's 8 little-endian bytes and 24
// zeros, as cryptotest.SetGlobalRandom makes it.
func randomStream(seed uint64, n int) []byte {
	var s [32]byte
	binary.LittleEndian.PutUint64(s[:8], seed)
	out := make([]byte, n)
	_, _ = mathrand.NewChaCha8(s).Read(out)
	return out
}

// Fixed identities. Each one's Ed25519 seed is SHA-256("backchannel test
// vector NAME ed25519"), its X25519 identity key SHA-256("backchannel test
// vector NAME x25519").

func fixedIdentity(t *testing.T, name string) identity.Identity {
	t.Helper()
	sk, err := keys.PrivateKeyFromSeed(label32("backchannel test vector " + name + " ed25519"))
	if err != nil {
		t.Fatal(err)
	}
	dh, err := keys.DHPrivateFromBytes(label32("backchannel test vector " + name + " x25519"))
	if err != nil {
		t.Fatal(err)
	}
	return identity.FromKeys(sk, dh)
}

// identityNames are the fixed identities, in the order keys.json lists them.
var identityNames = []string{"alice", "bob", "carol", "host", "mailbox"}

// keyRef names a fixed identity's key in a vector.
type keyRef struct {
	Name      string `json:"name"`
	PublicKey string `json:"ed25519_public"`
}

func refOf(t *testing.T, name string) keyRef {
	pk := fixedIdentity(t, name).Public().Key
	return keyRef{Name: name, PublicKey: hx(pk[:])}
}

// Fixed times.
var (
	// t0 is the vectors' "now": 2026-02-20T12:00:00Z.
	t0 = time.Date(2026, 2, 20, 12, 0, 0, 0, time.UTC)
)

// ms is a time in Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// rfc is a time in RFC 3339 with its fraction.
func rfc(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// must fails the test on an error.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// same fails the test unless got equals want, byte for byte.
func same(t *testing.T, what string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s: the code gives\n  %x\nthe documented computation\n  %x", what, got, want)
	}
}
