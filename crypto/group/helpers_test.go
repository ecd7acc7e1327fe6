package group

import (
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

// groupKeyFor makes a fresh group key for a new group.
func newGroupKey(t testing.TB) GroupKey {
	t.Helper()
	id, _ := NewGroup()
	return GroupKey{Group: id, Epoch: 0, Key: NewEpochKey()}
}

func mustSendChain(t testing.TB, gk GroupKey, sk keys.PrivateKey) *SendChain {
	t.Helper()
	c, err := NewSendChain(gk, sk)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustReceiveChain(t testing.TB, gk GroupKey, sender keys.PublicKey) *ReceiveChain {
	t.Helper()
	c, err := NewReceiveChain(gk, sender)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func mustSeal(t testing.TB, c *SendChain, msg string) *Envelope {
	t.Helper()
	e, err := c.Seal([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// skipTo moves a send chain forward to seq without sealing, as if the
// messages before it had been sent and lost.
func skipTo(c *SendChain, seq uint64) {
	for c.pos.next < seq {
		_, c.pos = c.pos.step()
	}
}

func mustMarshal(t testing.TB, m interface{ MarshalBinary() ([]byte, error) }) []byte {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func cloneEnvelope(e *Envelope) *Envelope {
	c := *e
	c.Ciphertext = append([]byte(nil), e.Ciphertext...)
	c.Signature = append([]byte(nil), e.Signature...)
	return &c
}

func cloneRoster(r *Roster) *Roster {
	c := *r
	c.Members = append([]Member(nil), r.Members...)
	c.Signature = append([]byte(nil), r.Signature...)
	return &c
}

// resign signs r with sk as it stands, whatever it holds: Signer still
// names whoever it named, so sk impersonates them unless it is theirs.
func resign(r *Roster, sk keys.PrivateKey) *Roster {
	r.Signature = sk.Sign(domainRoster, r.signedBytes())
	return r
}

// resignAs names sk's key as r's Signer and signs r with it.
func resignAs(r *Roster, sk keys.PrivateKey) *Roster {
	r.Signer = sk.Public()
	return resign(r, sk)
}

// resignEnvelope signs e with sk as it stands, whatever it holds.
func resignEnvelope(e *Envelope, sk keys.PrivateKey) *Envelope {
	e.Signature = sk.Sign(domainEnvelope, e.signedBytes())
	return e
}
