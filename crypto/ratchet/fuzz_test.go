package ratchet

import (
	"bytes"
	"testing"
)

func FuzzUnmarshalHeader(f *testing.F) {
	a, _ := pair(f)
	m := mustEncrypt(f, a, "x")
	enc, _ := m.Header.MarshalBinary()
	f.Add(enc)
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := UnmarshalHeader(data)
		if err != nil {
			return
		}
		back, _ := h.MarshalBinary()
		if !bytes.Equal(back, data) {
			t.Fatalf("header re-encodes to %x, was %x", back, data)
		}
	})
}

// FuzzDecrypt feeds arbitrary bytes to a live session as a message: nothing
// may panic, and whatever fails must leave the session unchanged.
func FuzzDecrypt(f *testing.F) {
	a, b := pair(f)
	for _, text := range []string{"one", "two"} {
		enc, err := mustEncrypt(f, a, text).MarshalBinary()
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	base := state(f, b)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := UnmarshalMessage(data)
		if err != nil {
			return
		}
		re, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := UnmarshalMessage(re); err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		s, err := UnmarshalSession(base)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Decrypt(m); err != nil && !bytes.Equal(base, state(t, s)) {
			t.Fatalf("failed Decrypt (%v) changed the session", err)
		}
	})
}

func FuzzUnmarshalSession(f *testing.F) {
	a, b := pair(f)
	mustEncrypt(f, a, "skipped")
	mustDecrypt(f, b, mustEncrypt(f, a, "x"), "x")
	f.Add(state(f, a))
	f.Add(state(f, b))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := UnmarshalSession(data)
		if err != nil {
			return
		}
		enc := state(t, s)
		back, err := UnmarshalSession(enc)
		if err != nil {
			t.Fatalf("re-encoded state does not decode: %v", err)
		}
		if !bytes.Equal(enc, state(t, back)) {
			t.Fatal("state changed across a second round trip")
		}
		if s.CanSend() {
			if _, err := s.Encrypt([]byte("probe")); err != nil {
				t.Fatalf("decoded session cannot send: %v", err)
			}
		}
	})
}
