package mailbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
)

func TestAppointmentRoundTrip(t *testing.T) {
	sk := keys.GeneratePrivateKey()
	tests := []struct {
		name    string
		mailbox peer.ID
	}{
		{"ed25519 peer", newPeerID()},
		{"shortest ID", identityPeerID(t, 2)},
		{"longest ID", identityPeerID(t, maxPeerIDSize)},
	}
	local := time.FixedZone("X", 3600)
	issued := now.In(local).Add(750 * time.Millisecond)
	expires := issued.Add(time.Hour)
	for _, tc := range tests {
		a, err := NewAppointment(sk, tc.mailbox, issued, expires)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !a.Issued.Equal(now) || !a.Expires.Equal(now.Add(time.Hour)) || a.Issued.Location() != time.UTC {
			t.Errorf("%s: times %v, %v; want whole seconds in UTC", tc.name, a.Issued, a.Expires)
		}
		if err := a.Verify(now); err != nil {
			t.Errorf("%s: Verify: %v", tc.name, err)
		}
		enc := mustMarshal(t, a)
		if len(enc) != appointmentFixed+len(tc.mailbox) || len(enc) > MaxAppointmentSize {
			t.Errorf("%s: encoding is %d bytes", tc.name, len(enc))
		}
		back, err := UnmarshalAppointment(enc)
		if err != nil {
			t.Fatalf("%s: Unmarshal: %v", tc.name, err)
		}
		if back.Recipient != a.Recipient || back.Mailbox != a.Mailbox || !back.Issued.Equal(a.Issued) ||
			!back.Expires.Equal(a.Expires) || !bytes.Equal(back.Signature, a.Signature) || back.Issued.Location() != time.UTC {
			t.Errorf("%s: decoded %+v, want %+v", tc.name, back, a)
		}
		if err := back.Verify(now); err != nil {
			t.Errorf("%s: Verify decoded: %v", tc.name, err)
		}
		if !bytes.Equal(mustMarshal(t, back), enc) {
			t.Errorf("%s: re-encoding differs", tc.name)
		}
	}
	if got := appointmentFixed + maxPeerIDSize; got != MaxAppointmentSize {
		t.Errorf("MaxAppointmentSize = %d, want %d", MaxAppointmentSize, got)
	}
}

func TestNewAppointmentRefuses(t *testing.T) {
	sk := keys.GeneratePrivateKey()
	mb := newPeerID()
	tests := []struct {
		name            string
		sk              keys.PrivateKey
		mailbox         peer.ID
		issued, expires time.Time
	}{
		{"expires == issued", sk, mb, now, now},
		{"expires in the same second", sk, mb, now, now.Add(999 * time.Millisecond)},
		{"expires before issued", sk, mb, now, now.Add(-time.Hour)},
		{"issued at 1970", sk, mb, time.Unix(0, 0), now},
		{"zero issued", sk, mb, time.Time{}, now},
		{"empty mailbox", sk, "", now, now.Add(time.Hour)},
		{"mailbox not a multihash", sk, peer.ID("\x00\x05abc"), now, now.Add(time.Hour)},
		{"mailbox ID too long", sk, identityPeerID(t, maxPeerIDSize+1), now, now.Add(time.Hour)},
		{"zero signer", keys.PrivateKey{}, mb, now, now.Add(time.Hour)},
	}
	for _, tc := range tests {
		if _, err := NewAppointment(tc.sk, tc.mailbox, tc.issued, tc.expires); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
}

func TestAppointmentVerifyFails(t *testing.T) {
	sk := keys.GeneratePrivateKey()
	a := mustAppointment(t, sk, newPeerID())
	other := mustAppointment(t, keys.GeneratePrivateKey(), a.Mailbox)
	edit := func(f func(*Appointment)) Appointment {
		c := a
		c.Signature = append([]byte(nil), a.Signature...)
		f(&c)
		return c
	}
	tests := []struct {
		name string
		a    Appointment
		now  time.Time
		want error
	}{
		{"other recipient", edit(func(c *Appointment) { c.Recipient = other.Recipient }), now, ErrBadSignature},
		{"other signer", edit(func(c *Appointment) { c.Signature = other.Signature }), now, ErrBadSignature},
		{"other mailbox", edit(func(c *Appointment) { c.Mailbox = newPeerID() }), now, ErrBadSignature},
		{"issued earlier", edit(func(c *Appointment) { c.Issued = c.Issued.Add(-time.Second) }), now, ErrBadSignature},
		{"expires later", edit(func(c *Appointment) { c.Expires = c.Expires.Add(time.Second) }), now, ErrBadSignature},
		{"flipped signature", edit(func(c *Appointment) { c.Signature[10] ^= 1 }), now, ErrBadSignature},
		{"short signature", edit(func(c *Appointment) { c.Signature = c.Signature[:63] }), now, ErrInvalid},
		{"no signature", edit(func(c *Appointment) { c.Signature = nil }), now, ErrInvalid},
		{"zero recipient", edit(func(c *Appointment) { c.Recipient = keys.PublicKey{} }), now, ErrInvalid},
		{"empty mailbox", edit(func(c *Appointment) { c.Mailbox = "" }), now, ErrInvalid},
		{"fractional time", edit(func(c *Appointment) { c.Issued = c.Issued.Add(time.Millisecond) }), now, ErrInvalid},
		{"expires == issued", edit(func(c *Appointment) { c.Expires = c.Issued }), now, ErrInvalid},
		{"expires < issued", edit(func(c *Appointment) { c.Expires = c.Issued.Add(-time.Hour) }), now, ErrInvalid},
		{"expired: now == Expires", a, a.Expires, ErrExpired},
		{"expired: now in Expires' second", a, a.Expires.Add(500 * time.Millisecond), ErrExpired},
		{"expired: now after Expires", a, a.Expires.Add(time.Hour), ErrExpired},
		{"valid: one second before Expires", a, a.Expires.Add(-time.Second), nil},
		{"valid: before Issued", a, a.Issued.Add(-time.Hour), nil},
	}
	for _, tc := range tests {
		if err := tc.a.Verify(tc.now); !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestUnmarshalAppointmentRefuses(t *testing.T) {
	a := mustAppointment(t, keys.GeneratePrivateKey(), newPeerID())
	enc := mustMarshal(t, a)
	n := len(a.Mailbox)
	idOff := 1 + keys.PublicKeySize + 1
	timeOff := idOff + n
	with := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), enc...)) }
	setTimes := func(issued, expires int64) []byte {
		return with(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[timeOff:], uint64(issued))
			binary.BigEndian.PutUint64(b[timeOff+8:], uint64(expires))
			return b
		})
	}
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"trailing byte", append(append([]byte(nil), enc...), 0)},
		{"one byte short", enc[:len(enc)-1]},
		{"over MaxAppointmentSize", make([]byte, MaxAppointmentSize+1)},
		{"version 0", with(func(b []byte) []byte { b[0] = 0; return b })},
		{"version 2", with(func(b []byte) []byte { b[0] = 2; return b })},
		{"zero recipient", with(func(b []byte) []byte { clear(b[1 : 1+keys.PublicKeySize]); return b })},
		{"ID length too long", with(func(b []byte) []byte { b[idOff-1]++; return b })},
		{"ID length too short", with(func(b []byte) []byte { b[idOff-1]--; return b })},
		{"ID length zero", with(func(b []byte) []byte {
			b[idOff-1] = 0
			return append(b[:idOff], b[timeOff:]...)
		})},
		{"ID not a multihash", with(func(b []byte) []byte { b[idOff+1]++; return b })},
		{"ID with a non-minimal varint", with(func(b []byte) []byte {
			// 0x80 0x00 is code 0 in two bytes: the same multihash, not canonical.
			b[idOff-1]++
			return append(b[:idOff:idOff], append([]byte{0x80}, b[idOff:]...)...)
		})},
		{"expires == issued", setTimes(now.Unix(), now.Unix())},
		{"expires < issued", setTimes(now.Unix(), now.Unix()-1)},
		{"issued at 0", setTimes(0, now.Unix())},
		{"issued negative", setTimes(-5, now.Unix())},
	}
	for _, tc := range tests {
		if _, err := UnmarshalAppointment(tc.b); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	for i := range len(enc) {
		if _, err := UnmarshalAppointment(enc[:i]); !errors.Is(err, ErrInvalid) {
			t.Errorf("truncated to %d bytes: err = %v, want ErrInvalid", i, err)
		}
	}
}

// Decoding does not check signatures or expiry; Verify does.
func TestUnmarshalAppointmentLeavesSignature(t *testing.T) {
	a := mustAppointment(t, keys.GeneratePrivateKey(), newPeerID())
	enc := mustMarshal(t, a)
	b, err := UnmarshalAppointment(flip(enc, len(enc)-1))
	if err != nil {
		t.Fatalf("Unmarshal of a bad signature: %v", err)
	}
	if err := b.Verify(now); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify = %v, want ErrBadSignature", err)
	}
}
