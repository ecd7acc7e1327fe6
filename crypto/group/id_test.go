package group

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

func TestNewGroup(t *testing.T) {
	id1, s1 := NewGroup()
	id2, s2 := NewGroup()
	if id1.IsZero() || s1.IsZero() {
		t.Fatal("NewGroup returned a zero ID or secret")
	}
	if id1 == id2 || s1.Equal(s2) {
		t.Fatal("two groups share an ID or a secret")
	}
	back, err := ParseID(id1.String())
	if err != nil || back != id1 {
		t.Fatalf("ParseID(String()) = %v, %v; want %v", back, err, id1)
	}
}

func TestTopic(t *testing.T) {
	_, s1 := NewGroup()
	_, s2 := NewGroup()
	topic := s1.Topic()
	if topic != s1.Topic() {
		t.Error("Topic is not deterministic")
	}
	if topic == s2.Topic() {
		t.Error("two secrets give the same topic")
	}
	if !strings.HasPrefix(topic, TopicPrefix) || len(topic) != len(TopicPrefix)+64 {
		t.Errorf("Topic = %q, want %s followed by 64 hex digits", topic, TopicPrefix)
	}
	if strings.Contains(topic, hex.EncodeToString(s1.k[:])) {
		t.Error("Topic contains the secret")
	}
	// A known answer pins the derivation, since every member must agree on it.
	var fixed Secret
	for i := range fixed.k {
		fixed.k[i] = byte(i + 1)
	}
	if got, want := fixed.Topic(), "/backchannel/g/"+knownTopic; got != want {
		t.Errorf("Topic of 01..20 = %s, want %s", got, want)
	}
}

func TestSecretRoundTrip(t *testing.T) {
	_, s := NewGroup()
	b := mustMarshal(t, s)
	back, err := UnmarshalSecret(b)
	if err != nil || !back.Equal(s) {
		t.Fatalf("UnmarshalSecret(MarshalBinary()) = %v, %v", back, err)
	}
	if _, err := (Secret{}).MarshalBinary(); !errors.Is(err, ErrMalformed) {
		t.Errorf("MarshalBinary of zero secret: err = %v, want ErrMalformed", err)
	}
}

func TestIDAndSecretDecodeErrors(t *testing.T) {
	tests := []struct {
		name string
		err  error
	}{
		{"short ID", err1(IDFromBytes(make([]byte, 31)))},
		{"zero ID", err1(IDFromBytes(make([]byte, 32)))},
		{"non-hex ID", err1(ParseID(strings.Repeat("zz", 32)))},
		{"short secret", err1(UnmarshalSecret(make([]byte, 16)))},
		{"zero secret", err1(UnmarshalSecret(make([]byte, 32)))},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tc.name, tc.err)
		}
	}
}

func err1[T any](_ T, err error) error { return err }

func TestStringsHideSecrets(t *testing.T) {
	id, secret := NewGroup()
	gk := GroupKey{Group: id, Epoch: 7, Key: NewEpochKey()}
	sk := keys.GeneratePrivateKey()
	send := mustSendChain(t, gk, sk)
	recv := mustReceiveChain(t, gk, sk.Public())
	skipTo(send, 3)
	if _, err := recv.Open(mustSeal(t, send, "x")); err != nil {
		t.Fatal(err)
	}
	secrets := [][]byte{secret.k[:], gk.Key.k[:], send.pos.ck[:], recv.pos.ck[:], recv.skipped[0].mk[:]}
	for _, v := range []any{secret, gk.Key, gk, send, recv, *send, *recv} {
		for _, format := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X"} {
			s := fmt.Sprintf(format, v)
			for _, secret := range secrets {
				if strings.Contains(strings.ToLower(s), hex.EncodeToString(secret)) || bytes.Contains([]byte(s), secret) {
					t.Errorf("Sprintf(%q, %T) = %q prints a secret", format, v, s)
				}
			}
		}
	}
}

const knownTopic = "7ef8a35886975670518fe286b90b45cb0d14ed66cdca25424bf953ab305a1d65" // HMAC-SHA256(01..20, label), checked with Python
