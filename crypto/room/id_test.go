package room

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

func TestDeriveIDLayout(t *testing.T) {
	host := keys.GeneratePrivateKey().Public()
	nonce := NewNonce()
	// SHA-256(len(label) ‖ label ‖ host ‖ nonce), written out by hand.
	var in []byte
	in = binary.BigEndian.AppendUint32(in, uint32(len(labelID)))
	in = append(in, labelID...)
	in = append(in, host[:]...)
	in = append(in, nonce[:]...)
	if got, want := DeriveID(host, nonce), ID(sha256.Sum256(in)); got != want {
		t.Fatalf("DeriveID = %s, want %s", got, want)
	}
}

func TestDeriveIDBindsHostAndNonce(t *testing.T) {
	host := keys.GeneratePrivateKey().Public()
	id, nonce, err := NewID(host)
	if err != nil {
		t.Fatal(err)
	}
	if id != DeriveID(host, nonce) {
		t.Fatal("NewID does not match DeriveID")
	}
	other := nonce
	other[NonceSize-1] ^= 1
	tests := []struct {
		name string
		id   ID
	}{
		{"other nonce", DeriveID(host, other)},
		{"other host", DeriveID(otherKey(host), nonce)},
		{"fresh NewID", first(NewID(host))},
	}
	for _, tc := range tests {
		if tc.id == id {
			t.Errorf("%s: same ID", tc.name)
		}
	}
	if _, _, err := NewID(keys.PublicKey{}); !errorsIs(err, ErrInvalid) {
		t.Errorf("NewID(zero key): err = %v, want ErrInvalid", err)
	}
}

func first(id ID, _ Nonce, _ error) ID { return id }

func TestParseID(t *testing.T) {
	id := DeriveID(keys.GeneratePrivateKey().Public(), NewNonce())
	s := id.String()
	if len(s) != 52 || strings.ToLower(s) != s {
		t.Fatalf("String = %q, want 52 lowercase characters", s)
	}
	// The last character holds 1 bit of the ID and 4 unused bits.
	last := strings.IndexByte("abcdefghijklmnopqrstuvwxyz234567", s[51])
	nonCanonical := s[:51] + string("abcdefghijklmnopqrstuvwxyz234567"[last^1])
	tests := []struct {
		name string
		in   string
		want error
	}{
		{"canonical", s, nil},
		{"upper case", strings.ToUpper(s), nil},
		{"short", s[:51], ErrBadID},
		{"long", s + "a", ErrBadID},
		{"bad character", "1" + s[1:], ErrBadID},
		{"padding", s[:50] + "==", ErrBadID},
		{"newline inside", s[:20] + "\n" + s[21:], ErrBadID},
		{"unused bits set", nonCanonical, ErrBadID},
		{"zero ID", ID{}.String(), ErrBadID},
		{"empty", "", ErrBadID},
		{"hex", strings.Repeat("ab", 32), ErrBadID},
	}
	for _, tc := range tests {
		got, err := ParseID(tc.in)
		wantErr(t, tc.name, err, tc.want)
		if tc.want == nil && got != id {
			t.Errorf("%s: ParseID = %s, want %s", tc.name, got, id)
		}
	}
}

func TestIDFromBytes(t *testing.T) {
	id := DeriveID(keys.GeneratePrivateKey().Public(), NewNonce())
	if got, err := IDFromBytes(id.Bytes()); err != nil || got != id {
		t.Errorf("IDFromBytes(Bytes) = %s, %v", got, err)
	}
	for name, b := range map[string][]byte{"short": id[:31], "long": append(id.Bytes(), 0), "zero": make([]byte, 32), "nil": nil} {
		if _, err := IDFromBytes(b); !errorsIs(err, ErrBadID) {
			t.Errorf("%s: err = %v, want ErrBadID", name, err)
		}
	}
}

func TestIDText(t *testing.T) {
	id := DeriveID(keys.GeneratePrivateKey().Public(), NewNonce())
	j, err := json.Marshal(map[string]ID{"room": id})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"room":"` + id.String() + `"}`; string(j) != want {
		t.Errorf("JSON = %s, want %s", j, want)
	}
	var back map[string]ID
	if err := json.Unmarshal(j, &back); err != nil || back["room"] != id {
		t.Errorf("JSON round trip = %v, %v", back, err)
	}
	if _, err := json.Marshal(ID{}); !errorsIs(err, ErrBadID) {
		t.Errorf("JSON of the zero ID: err = %v, want ErrBadID", err)
	}
	if err := json.Unmarshal([]byte(`"nope"`), &id); !errorsIs(err, ErrBadID) {
		t.Errorf("JSON of a bad ID: err = %v, want ErrBadID", err)
	}
}
