package room

import (
	"errors"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
)

// t0 is the fixed "now" of the tests; nothing here reads the clock.
var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

// fixture is a room with its host and two other peers.
type fixture struct {
	host, alice, mallory keys.PrivateKey
	desc                 Descriptor
	room                 ID
}

func newFixture(t testing.TB) fixture {
	t.Helper()
	f := fixture{host: keys.GeneratePrivateKey(), alice: keys.GeneratePrivateKey(), mallory: keys.GeneratePrivateKey()}
	f.desc = Descriptor{
		Nonce:       NewNonce(),
		Name:        "Ask me anything",
		Description: "A live Q&A.\nBring questions.",
		Start:       t0.Add(time.Hour),
		Created:     t0,
	}
	if err := f.desc.Sign(f.host); err != nil {
		t.Fatal(err)
	}
	f.room = f.desc.Room
	return f
}

// message returns a message from alice, signed.
func (f fixture) message(t testing.TB, kind Kind, seq uint64, body []byte) Message {
	t.Helper()
	m := Message{Room: f.room, Kind: kind, Seq: seq, Timestamp: t0, Body: body}
	if err := m.Sign(f.alice); err != nil {
		t.Fatal(err)
	}
	return m
}

// grant returns a moderator grant to alice for a day, signed by the host.
func (f fixture) grant(t testing.TB) RoleGrant {
	t.Helper()
	g := RoleGrant{Room: f.room, Grantee: f.alice.Public(), Role: RoleModerator, IssuedAt: t0, ExpiresAt: t0.Add(24 * time.Hour)}
	if err := g.Sign(f.host); err != nil {
		t.Fatal(err)
	}
	return g
}

// otherRoom returns the ID of another room of the same host.
func (f fixture) otherRoom(t testing.TB) ID {
	t.Helper()
	id, _, err := NewID(f.host.Public())
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// wantErr fails unless err is want (or nil when want is nil).
func wantErr(t *testing.T, name string, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: err = %v, want nil", name, err)
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: err = %v, want %v", name, err, want)
	}
}

func flipBit(b []byte, bit int) []byte {
	c := append([]byte(nil), b...)
	c[bit/8] ^= 1 << (bit % 8)
	return c
}

func otherKey(pk keys.PublicKey) keys.PublicKey {
	pk[0] ^= 1
	return pk
}

func errorsIs(err, target error) bool { return errors.Is(err, target) }
