package group

import (
	"errors"
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

// Bob is removed at epoch 1. He keeps everything he had at epoch 0 (the epoch
// key, his chains, both rosters) and still cannot read epoch 1, nor post to it.
func TestRemovedMemberCannotDecryptNextEpoch(t *testing.T) {
	f := newRosterFixture(t) // r0: owner, alice, bob; r1: owner, alice
	gk0 := GroupKey{Group: f.r0.Group, Epoch: 0, Key: NewEpochKey()}
	gk1 := GroupKey{Group: f.r1.Group, Epoch: 1, Key: NewEpochKey()} // sent to owner and alice only

	// Epoch 0: bob reads the owner's message like everyone.
	bobFromOwner0 := mustReceiveChain(t, gk0, f.owner.Public())
	e0 := mustSeal(t, mustSendChain(t, gk0, f.owner), "epoch 0, bob may read")
	if _, err := bobFromOwner0.Open(e0); err != nil {
		t.Fatalf("bob opening epoch 0: %v", err)
	}
	if err := f.r0.CheckSender(e0); err != nil {
		t.Fatal(err)
	}

	// Epoch 1: alice reads the owner's message.
	e1 := mustSeal(t, mustSendChain(t, gk1, f.owner), "epoch 1, bob may not read")
	if err := f.r1.CheckSender(e1); err != nil {
		t.Fatal(err)
	}
	if pt, err := mustReceiveChain(t, gk1, f.owner.Public()).Open(e1); err != nil || string(pt) != "epoch 1, bob may not read" {
		t.Fatalf("alice opening epoch 1: %q, %v", pt, err)
	}

	// Bob's chains of epoch 0 refuse the envelope of epoch 1.
	if _, err := bobFromOwner0.Open(e1); !errors.Is(err, ErrWrongChain) {
		t.Errorf("bob's epoch-0 chain on epoch 1: err = %v, want ErrWrongChain", err)
	}
	// Deriving epoch-1 chains from the only key he has fails to decrypt, at
	// this and at any nearby sequence number.
	guess := GroupKey{Group: gk0.Group, Epoch: 1, Key: gk0.Key}
	bobGuess := mustReceiveChain(t, guess, f.owner.Public())
	if _, err := bobGuess.Open(e1); !errors.Is(err, ErrDecrypt) {
		t.Errorf("bob's guessed epoch-1 chain: err = %v, want ErrDecrypt", err)
	}
	pos := bobGuess.pos
	for seq := range 5 {
		var mk [32]byte
		mk, pos = pos.step()
		if _, err := open(mk, e1); !errors.Is(err, ErrDecrypt) {
			t.Errorf("bob's guessed key %d: err = %v, want ErrDecrypt", seq, err)
		}
	}
	// The roster of epoch 1, which verifies, excludes him.
	if err := VerifyChain(f.owner.Public(), []*Roster{f.r0, f.r1}); err != nil {
		t.Fatal(err)
	}
	if f.r1.IsMember(f.bob.Public()) {
		t.Fatal("roster of epoch 1 still lists bob")
	}
	// And what he posts to epoch 1, signed with his own key, is refused.
	fromBob := mustSeal(t, mustSendChain(t, guess, f.bob), "still here")
	if err := fromBob.VerifySignature(); err != nil {
		t.Fatalf("bob's own signature: %v", err)
	}
	if err := f.r1.CheckSender(fromBob); !errors.Is(err, ErrNotMember) {
		t.Errorf("bob posting to epoch 1: err = %v, want ErrNotMember", err)
	}
}

func TestCheckSender(t *testing.T) {
	f := newRosterFixture(t)
	gk1 := GroupKey{Group: f.r1.Group, Epoch: 1, Key: NewEpochKey()}
	fromAlice := mustSeal(t, mustSendChain(t, gk1, f.alice), "hi")
	// Mallory somehow holds the epoch key: she is still not a member.
	fromMallory := mustSeal(t, mustSendChain(t, gk1, f.mallory), "let me in")
	// Mallory claims to be alice but can only sign with her own key.
	asAlice := mustSeal(t, mustSendChain(t, gk1, f.mallory), "I am alice")
	asAlice.Sender = f.alice.Public()
	resignEnvelope(asAlice, f.mallory)
	// Mallory replays alice's envelope under another epoch or group.
	otherEpoch := cloneEnvelope(fromAlice)
	otherEpoch.Epoch = 0
	otherGroup := cloneEnvelope(fromAlice)
	otherGroup.Group[0] ^= 1

	tests := []struct {
		name string
		e    *Envelope
		want error
	}{
		{"member", fromAlice, nil},
		{"non-member", fromMallory, ErrNotMember},
		{"forged member signature", asAlice, ErrBadSignature},
		{"other epoch", otherEpoch, ErrWrongChain},
		{"other group", otherGroup, ErrWrongChain},
	}
	for _, tc := range tests {
		if err := f.r1.CheckSender(tc.e); !errors.Is(err, tc.want) {
			t.Errorf("%s: CheckSender = %v, want %v", tc.name, err, tc.want)
		}
	}
	// Without the roster, the signature check alone still catches forgeries.
	if err := asAlice.VerifySignature(); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VerifySignature of a forgery = %v, want ErrBadSignature", err)
	}
	if err := otherEpoch.VerifySignature(); !errors.Is(err, ErrBadSignature) {
		t.Errorf("VerifySignature of a moved envelope = %v, want ErrBadSignature", err)
	}
}

func TestEnvelopeWire(t *testing.T) {
	gk := newGroupKey(t)
	sk := keys.GeneratePrivateKey()
	e := mustSeal(t, mustSendChain(t, gk, sk), "hello")
	back, err := UnmarshalEnvelope(mustMarshal(t, e))
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash() != e.Hash() {
		t.Fatal("round trip changed the envelope")
	}
	other := cloneEnvelope(e)
	other.Signature[0] ^= 1
	if other.Hash() == e.Hash() {
		t.Error("Hash ignores the signature")
	}
	tests := []struct {
		name   string
		tamper func(e *Envelope)
		want   error
	}{
		{"zero group", func(e *Envelope) { e.Group = ID{} }, ErrMalformed},
		{"zero sender", func(e *Envelope) { e.Sender = keys.PublicKey{} }, ErrMalformed},
		{"short signature", func(e *Envelope) { e.Signature = e.Signature[:63] }, ErrMalformed},
		{"short ciphertext", func(e *Envelope) { e.Ciphertext = e.Ciphertext[:15] }, ErrMalformed},
		{"long ciphertext", func(e *Envelope) { e.Ciphertext = make([]byte, MaxCiphertext+1) }, ErrTooLarge},
		{"seq at MaxSeq", func(e *Envelope) { e.Seq = MaxSeq }, ErrMalformed},
	}
	for _, tc := range tests {
		bad := cloneEnvelope(e)
		tc.tamper(bad)
		if _, err := bad.MarshalBinary(); !errors.Is(err, tc.want) {
			t.Errorf("%s: MarshalBinary = %v, want %v", tc.name, err, tc.want)
		}
		if err := bad.VerifySignature(); !errors.Is(err, tc.want) {
			t.Errorf("%s: VerifySignature = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := UnmarshalEnvelope(make([]byte, maxEnvelopeBytes+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized envelope: err = %v, want ErrTooLarge", err)
	}
	if _, err := UnmarshalEnvelope(nil); !errors.Is(err, ErrVersion) {
		t.Errorf("empty envelope: err = %v, want ErrVersion", err)
	}
}
