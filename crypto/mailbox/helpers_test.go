package mailbox

import (
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
)

var now = time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)

// newPeerID returns the peer ID of a fresh identity key.
func newPeerID() peer.ID { return keys.GeneratePrivateKey().Public().PeerID() }

// identityPeerID returns a peer ID of n bytes (2 to 129): an identity
// multihash of n-2 bytes.
func identityPeerID(t testing.TB, n int) peer.ID {
	t.Helper()
	b := make([]byte, n)
	b[1] = byte(n - 2)
	for i := 2; i < n; i++ {
		b[i] = byte(i)
	}
	id, err := peer.IDFromBytes(b)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func mustAppointment(t testing.TB, sk keys.PrivateKey, mailbox peer.ID) Appointment {
	t.Helper()
	a, err := NewAppointment(sk, mailbox, now, now.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustMarshal(t testing.TB, a Appointment) []byte {
	t.Helper()
	b, err := a.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func flip(b []byte, i int) []byte {
	c := append([]byte(nil), b...)
	c[i] ^= 1
	return c
}
