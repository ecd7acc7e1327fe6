package ratchet

import (
	"testing"
)

var msg256 = make([]byte, 256)

// BenchmarkEncryptDecrypt256 is the steady state: one direction, no DH
// ratchet step per message. Target: under 20 µs per message.
func BenchmarkEncryptDecrypt256(b *testing.B) {
	a, s := established(b)
	b.SetBytes(int64(len(msg256)))
	for b.Loop() {
		m, err := a.Encrypt(msg256)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Decrypt(m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPingPong256 alternates directions, so every message also takes a
// DH ratchet step (two X25519 operations and a new key pair).
func BenchmarkPingPong256(b *testing.B) {
	a, s := established(b)
	from, to := s, a
	for b.Loop() {
		m, err := from.Encrypt(msg256)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := to.Decrypt(m); err != nil {
			b.Fatal(err)
		}
		from, to = to, from
	}
}

// BenchmarkWireEncryptDecrypt256 adds the wire encoding and decoding.
func BenchmarkWireEncryptDecrypt256(b *testing.B) {
	a, s := established(b)
	for b.Loop() {
		m, err := a.Encrypt(msg256)
		if err != nil {
			b.Fatal(err)
		}
		data, err := m.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		m2, err := UnmarshalMessage(data)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.Decrypt(m2); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMarshalSession(b *testing.B) {
	a, _ := established(b)
	for b.Loop() {
		data, err := a.MarshalBinary()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := UnmarshalSession(data); err != nil {
			b.Fatal(err)
		}
	}
}
