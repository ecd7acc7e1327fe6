package room

import (
	"bytes"
	"testing"
)

func BenchmarkSignMessage(b *testing.B) {
	f := newFixture(b)
	m := Message{Room: f.room, Kind: KindChat, Seq: 1, Timestamp: t0, Body: bytes.Repeat([]byte{'x'}, 256)}
	for b.Loop() {
		m.Seq++
		if err := m.Sign(f.alice); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyMessage(b *testing.B) {
	f := newFixture(b)
	m := f.message(b, KindChat, 1, bytes.Repeat([]byte{'x'}, 256))
	for b.Loop() {
		if err := m.Verify(f.room); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateMessage is what a topic validator does with a 256-byte
// body: decode, verify, and compute the message ID.
func BenchmarkValidateMessage(b *testing.B) {
	f := newFixture(b)
	enc, err := f.message(b, KindChat, 1, bytes.Repeat([]byte{'x'}, 256)).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(enc)))
	for b.Loop() {
		m, err := UnmarshalMessage(enc)
		if err != nil {
			b.Fatal(err)
		}
		if err := m.Verify(f.room); err != nil {
			b.Fatal(err)
		}
		_ = m.ID()
	}
}

func BenchmarkWireMessageID(b *testing.B) {
	f := newFixture(b)
	enc, err := f.message(b, KindChat, 1, bytes.Repeat([]byte{'x'}, 256)).MarshalBinary()
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		_ = WireMessageID(enc)
	}
}

func BenchmarkVerifyGrant(b *testing.B) {
	f := newFixture(b)
	g := f.grant(b)
	host := f.host.Public()
	for b.Loop() {
		if err := g.Verify(host, f.room, t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDescriptor(b *testing.B) {
	f := newFixture(b)
	for b.Loop() {
		if err := f.desc.Verify(); err != nil {
			b.Fatal(err)
		}
	}
}
