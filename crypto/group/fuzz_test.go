package group

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

// fuzzKey is a fixed identity, so that seeds and fuzz inputs stay meaningful
// across runs.
func fuzzKey(t testing.TB, b byte) keys.PrivateKey {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = b
	}
	sk, err := keys.PrivateKeyFromSeed(seed)
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

func fuzzGroupKey(epoch uint64) GroupKey {
	gk := GroupKey{Epoch: epoch}
	for i := range gk.Group {
		gk.Group[i] = 0xA0 + byte(i)
		gk.Key.k[i] = 0x40 + byte(i)
	}
	return gk
}

func FuzzUnmarshalEnvelope(f *testing.F) {
	send := mustSendChain(f, fuzzGroupKey(3), fuzzKey(f, 1))
	for _, msg := range []string{"", "hello", string(make([]byte, 300))} {
		f.Add(mustMarshal(f, mustSeal(f, send, msg)))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := UnmarshalEnvelope(b)
		if err != nil {
			return
		}
		_ = e.VerifySignature() // must not panic
		again, err := UnmarshalEnvelope(mustMarshal(t, e))
		if err != nil {
			t.Fatalf("re-encoded envelope does not decode: %v", err)
		}
		if !reflect.DeepEqual(e, again) || e.Hash() != again.Hash() {
			t.Fatalf("round trip changed the envelope:\n%+v\n%+v", e, again)
		}
	})
}

func FuzzUnmarshalGroupKey(f *testing.F) {
	f.Add(mustMarshal(f, fuzzGroupKey(0)))
	f.Add(mustMarshal(f, fuzzGroupKey(1<<40)))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		gk, err := UnmarshalGroupKey(b)
		if err != nil {
			return
		}
		again, err := UnmarshalGroupKey(mustMarshal(t, gk))
		if err != nil {
			t.Fatalf("re-encoded group key does not decode: %v", err)
		}
		if gk != again {
			t.Fatalf("round trip changed the group key: %v, %v", gk, again)
		}
	})
}

func FuzzUnmarshalRoster(f *testing.F) {
	owner, alice, bob := fuzzKey(f, 1), fuzzKey(f, 2), fuzzKey(f, 3)
	gk := fuzzGroupKey(0)
	r0, err := Genesis(owner, gk.Group, []Member{{owner.Public(), RoleOwner}, {alice.Public(), RoleAdmin}, {bob.Public(), RoleMember}})
	if err != nil {
		f.Fatal(err)
	}
	r1, err := r0.Next(owner, []Member{{owner.Public(), RoleMember}, {alice.Public(), RoleOwner}})
	if err != nil {
		f.Fatal(err)
	}
	byAdmin, err := r0.Next(alice, []Member{{owner.Public(), RoleOwner}, {alice.Public(), RoleAdmin}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mustMarshal(f, r0))
	f.Add(mustMarshal(f, r1))
	f.Add(mustMarshal(f, byAdmin))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := UnmarshalRoster(b)
		if err != nil {
			return
		}
		// None of these may panic on a decoded roster.
		_ = r.VerifyGenesis(owner.Public())
		_ = r.VerifyFollows(r0)
		_ = VerifyChain(owner.Public(), []*Roster{r0, r})
		_ = r.Role(alice.Public())
		again, err := UnmarshalRoster(mustMarshal(t, r))
		if err != nil {
			t.Fatalf("re-encoded roster does not decode: %v", err)
		}
		if !reflect.DeepEqual(r, again) || r.Hash() != again.Hash() {
			t.Fatalf("round trip changed the roster:\n%+v\n%+v", r, again)
		}
	})
}

func FuzzUnmarshalReceiveChain(f *testing.F) {
	gk := fuzzGroupKey(5)
	sender := fuzzKey(f, 1)
	send := mustSendChain(f, gk, sender)
	var envs []*Envelope
	for i := range 4 {
		envs = append(envs, mustSeal(f, send, "m"))
		skipTo(send, uint64(3*(i+1)))
	}
	recv := mustReceiveChain(f, gk, sender.Public())
	f.Add(mustMarshal(f, recv))
	for _, i := range []int{2, 0, 3} {
		if _, err := recv.Open(envs[i]); err != nil {
			f.Fatal(err)
		}
		f.Add(mustMarshal(f, recv))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := UnmarshalReceiveChain(b)
		if err != nil {
			return
		}
		encoded := mustMarshal(t, c)
		again, err := UnmarshalReceiveChain(encoded)
		if err != nil {
			t.Fatalf("re-encoded chain does not decode: %v", err)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("round trip changed the chain:\n%v\n%v", c, again)
		}
		for _, e := range envs { // must not panic, whatever the state
			_, _ = c.Open(e)
		}
		if len(c.Missing()) > MaxSkippedKeys {
			t.Fatalf("chain keeps %d skipped keys", len(c.Missing()))
		}
	})
}

func FuzzUnmarshalSendChain(f *testing.F) {
	signer := fuzzKey(f, 1)
	send := mustSendChain(f, fuzzGroupKey(2), signer)
	f.Add(mustMarshal(f, send))
	mustSeal(f, send, "x")
	f.Add(mustMarshal(f, send))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := UnmarshalSendChain(b, signer)
		if err != nil {
			return
		}
		again, err := UnmarshalSendChain(mustMarshal(t, c), signer)
		if err != nil {
			t.Fatalf("re-encoded chain does not decode: %v", err)
		}
		if !reflect.DeepEqual(c, again) {
			t.Fatalf("round trip changed the chain:\n%v\n%v", c, again)
		}
	})
}

func FuzzUnmarshalSecret(f *testing.F) {
	_, s := NewGroup()
	f.Add(mustMarshal(f, s))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := UnmarshalSecret(b)
		if err != nil {
			return
		}
		again, err := UnmarshalSecret(mustMarshal(t, s))
		if err != nil || !again.Equal(s) {
			t.Fatalf("round trip changed the secret: %v", err)
		}
	})
}

func FuzzUnframe(f *testing.F) {
	gk := fuzzGroupKey(3)
	send := mustSendChain(f, gk, fuzzKey(f, 1))
	for _, msg := range []string{"", "hello", string(make([]byte, 300))} {
		fr, err := gk.Frame(mustSeal(f, send, msg))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(fr)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := gk.Unframe(b)
		if err != nil {
			return
		}
		_ = e.VerifySignature() // must not panic
		again, err := gk.Frame(e)
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("a frame that decodes does not encode back to itself: %v", err)
		}
	})
}
