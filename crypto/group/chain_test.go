package group

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/backchannel/backchannel/crypto/keys"
)

func TestSealOpenRoundTrip(t *testing.T) {
	gk := newGroupKey(t)
	alice := keys.GeneratePrivateKey()
	send := mustSendChain(t, gk, alice)
	recv := mustReceiveChain(t, gk, alice.Public())
	for i, msg := range [][]byte{[]byte("hello"), {}, bytes.Repeat([]byte{7}, MaxPlaintext)} {
		e, err := send.Seal(msg)
		if err != nil {
			t.Fatal(err)
		}
		if e.Seq != uint64(i) || e.Group != gk.Group || e.Epoch != gk.Epoch || e.Sender != alice.Public() {
			t.Fatalf("envelope %d has header %v/%d/%v/%d", i, e.Group, e.Epoch, e.Sender, e.Seq)
		}
		if err := e.VerifySignature(); err != nil {
			t.Fatal(err)
		}
		wire, err := UnmarshalEnvelope(mustMarshal(t, e))
		if err != nil {
			t.Fatal(err)
		}
		pt, err := recv.Open(wire)
		if err != nil {
			t.Fatalf("Open %d: %v", i, err)
		}
		if !bytes.Equal(pt, msg) {
			t.Fatalf("Open %d = %q, want %q", i, pt, msg)
		}
	}
	if _, err := send.Seal(make([]byte, MaxPlaintext+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Seal over MaxPlaintext: err = %v, want ErrTooLarge", err)
	}
	if send.Next() != 3 {
		t.Errorf("a failed Seal moved the chain to %d", send.Next())
	}
}

// Two senders in one epoch, and one sender in two epochs or groups, never
// share a message key.
func TestChainsAreBound(t *testing.T) {
	gk := newGroupKey(t)
	alice, bob := keys.GeneratePrivateKey(), keys.GeneratePrivateKey()
	other := newGroupKey(t)
	other.Key = gk.Key // the same epoch key in another group
	nextEpoch := gk
	nextEpoch.Epoch++
	first := func(gk GroupKey, sk keys.PrivateKey) [32]byte { return firstChainKey(gk, sk.Public()) }
	base := first(gk, alice)
	for name, ck := range map[string][32]byte{
		"other sender": first(gk, bob),
		"other group":  first(other, alice),
		"other epoch":  first(nextEpoch, alice),
	} {
		if ck == base {
			t.Errorf("%s derives the same chain key", name)
		}
	}
	// And the receiver of one sender cannot open another's messages even if
	// the envelope is re-labelled and re-signed.
	e := mustSeal(t, mustSendChain(t, gk, bob), "from bob")
	e.Sender = alice.Public()
	resignEnvelope(e, alice)
	if _, err := mustReceiveChain(t, gk, alice.Public()).Open(e); !errors.Is(err, ErrDecrypt) {
		t.Errorf("bob's ciphertext under alice's name: err = %v, want ErrDecrypt", err)
	}
}

// Every rejected envelope leaves the chain as it was, and the next genuine
// message still opens.
func TestRejectedEnvelopesLeaveChainUnchanged(t *testing.T) {
	gk := newGroupKey(t)
	alice, mallory := keys.GeneratePrivateKey(), keys.GeneratePrivateKey()
	send := mustSendChain(t, gk, alice)
	e0 := mustSeal(t, send, "zero")
	skipTo(send, 5)
	e5 := mustSeal(t, send, "five")

	tests := []struct {
		name   string
		tamper func(e *Envelope) *Envelope
		want   error
	}{
		{"forged by a non-sender", func(e *Envelope) *Envelope { return resignEnvelope(e, mallory) }, ErrBadSignature},
		{"no signature", func(e *Envelope) *Envelope { e.Signature = nil; return e }, ErrMalformed},
		{"flipped signature bit", func(e *Envelope) *Envelope { e.Signature[10] ^= 1; return e }, ErrBadSignature},
		{"flipped ciphertext bit", func(e *Envelope) *Envelope { e.Ciphertext[0] ^= 1; return e }, ErrBadSignature},
		{"truncated ciphertext", func(e *Envelope) *Envelope { e.Ciphertext = e.Ciphertext[:len(e.Ciphertext)-1]; return e }, ErrBadSignature},
		{"other seq", func(e *Envelope) *Envelope { e.Seq = 3; return e }, ErrBadSignature},
		{"other epoch", func(e *Envelope) *Envelope { e.Epoch++; return e }, ErrWrongChain},
		{"other group", func(e *Envelope) *Envelope { e.Group[0] ^= 1; return e }, ErrWrongChain},
		{"other sender", func(e *Envelope) *Envelope { e.Sender = mallory.Public(); return resignEnvelope(e, mallory) }, ErrWrongChain},
		// The sender itself signs a header that does not match the
		// ciphertext: the signature holds, the AEAD must refuse.
		{"sender signs moved seq", func(e *Envelope) *Envelope { e.Seq = 3; return resignEnvelope(e, alice) }, ErrDecrypt},
		{"sender signs bad ciphertext", func(e *Envelope) *Envelope { e.Ciphertext[0] ^= 1; return resignEnvelope(e, alice) }, ErrDecrypt},
		{"sender signs zero ciphertext", func(e *Envelope) *Envelope {
			e.Ciphertext = make([]byte, len(e.Ciphertext))
			return resignEnvelope(e, alice)
		}, ErrDecrypt},
	}
	for _, genuine := range []*Envelope{e0, e5} {
		for _, tc := range tests {
			t.Run(fmt.Sprintf("seq %d/%s", genuine.Seq, tc.name), func(t *testing.T) {
				recv := mustReceiveChain(t, gk, alice.Public())
				if genuine == e0 {
					// Put e0 among the skipped keys, so the skipped path is tested too.
					if _, err := recv.Open(e5); err != nil {
						t.Fatal(err)
					}
				}
				before := mustMarshal(t, recv)
				_, err := recv.Open(tc.tamper(cloneEnvelope(genuine)))
				if !errors.Is(err, tc.want) {
					t.Fatalf("Open = %v, want %v", err, tc.want)
				}
				if after := mustMarshal(t, recv); !bytes.Equal(before, after) {
					t.Fatal("a rejected envelope changed the chain")
				}
				if _, err := recv.Open(genuine); err != nil {
					t.Fatalf("genuine message after a rejected one: %v", err)
				}
			})
		}
	}
}

func TestOutOfOrderAndReplay(t *testing.T) {
	gk := newGroupKey(t)
	alice := keys.GeneratePrivateKey()
	send := mustSendChain(t, gk, alice)
	var envs []*Envelope
	for i := range 6 {
		envs = append(envs, mustSeal(t, send, fmt.Sprint("message ", i)))
	}
	recv := mustReceiveChain(t, gk, alice.Public())
	steps := []struct {
		seq  int
		want error
	}{
		{2, nil}, {2, ErrReplay}, {0, nil}, {5, nil}, {0, ErrReplay},
		{4, nil}, {1, nil}, {3, nil}, {3, ErrReplay}, {5, ErrReplay},
	}
	for i, st := range steps {
		pt, err := recv.Open(envs[st.seq])
		if !errors.Is(err, st.want) {
			t.Fatalf("step %d: Open(%d) = %v, want %v", i, st.seq, err, st.want)
		}
		if err == nil && string(pt) != fmt.Sprint("message ", st.seq) {
			t.Fatalf("step %d: Open(%d) = %q", i, st.seq, pt)
		}
	}
	if recv.Next() != 6 || len(recv.Missing()) != 0 {
		t.Errorf("chain at %d missing %v, want 6 and none", recv.Next(), recv.Missing())
	}
}

func TestSkipLimits(t *testing.T) {
	gk := newGroupKey(t)
	alice := keys.GeneratePrivateKey()
	at := func(seq uint64) *Envelope {
		send := mustSendChain(t, gk, alice)
		if seq > 3*MaxSkip {
			send.pos.next = seq // too far to walk; rejected before any key is used
		}
		skipTo(send, seq)
		return mustSeal(t, send, fmt.Sprint(seq))
	}
	tests := []struct {
		name string
		seqs []uint64 // opened in this order; all but the last must succeed
		want error
	}{
		{"exactly MaxSkip ahead", []uint64{MaxSkip}, nil},
		{"one beyond MaxSkip", []uint64{MaxSkip + 1}, ErrTooFarAhead},
		{"MaxSkip ahead of a later cursor", []uint64{10, 11 + MaxSkip}, nil},
		{"beyond MaxSkip of a later cursor", []uint64{10, 12 + MaxSkip}, ErrTooFarAhead},
		{"all MaxSkip skipped keys kept", []uint64{MaxSkip, 0}, nil},
		// MaxSkip then 2*MaxSkip skips 0..MaxSkip-1 and MaxSkip+1..2*MaxSkip-1:
		// 2*MaxSkip-1 keys, of which the oldest MaxSkip-1 are evicted.
		{"oldest skipped key evicted", []uint64{MaxSkip, 2 * MaxSkip, 0}, ErrReplay},
		{"last evicted key", []uint64{MaxSkip, 2 * MaxSkip, MaxSkippedKeys - 2}, ErrReplay},
		{"first kept key", []uint64{MaxSkip, 2 * MaxSkip, MaxSkippedKeys - 1}, nil},
		{"key after the cursor jump kept", []uint64{MaxSkip, 2 * MaxSkip, MaxSkip + 1}, nil},
		{"last sequence number", []uint64{MaxSeq - 1}, ErrTooFarAhead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			recv := mustReceiveChain(t, gk, alice.Public())
			last := len(tc.seqs) - 1
			for _, seq := range tc.seqs[:last] {
				if _, err := recv.Open(at(seq)); err != nil {
					t.Fatalf("Open(%d): %v", seq, err)
				}
			}
			before := mustMarshal(t, recv)
			pt, err := recv.Open(at(tc.seqs[last]))
			if !errors.Is(err, tc.want) {
				t.Fatalf("Open(%d) = %v, want %v", tc.seqs[last], err, tc.want)
			}
			if err != nil {
				if !bytes.Equal(before, mustMarshal(t, recv)) {
					t.Fatal("a rejected envelope changed the chain")
				}
				return
			}
			if string(pt) != fmt.Sprint(tc.seqs[last]) {
				t.Fatalf("Open = %q", pt)
			}
			if n := len(recv.Missing()); n > MaxSkippedKeys {
				t.Fatalf("chain keeps %d skipped keys, limit %d", n, MaxSkippedKeys)
			}
		})
	}
}

func TestSendChainExhausted(t *testing.T) {
	gk := newGroupKey(t)
	send := mustSendChain(t, gk, keys.GeneratePrivateKey())
	send.pos.next = MaxSeq - 1 // the keys do not matter here
	if _, err := send.Seal([]byte("last")); err != nil {
		t.Fatal(err)
	}
	if _, err := send.Seal([]byte("one too many")); !errors.Is(err, ErrChainExhausted) {
		t.Fatalf("Seal past MaxSeq: err = %v, want ErrChainExhausted", err)
	}
}

// Random delivery: reordered, duplicated and dropped messages, with the
// receiver saved and restored at random points. Every delivered message opens
// exactly once and with the right text.
func TestRandomDeliveryWithRestore(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	gk := newGroupKey(t)
	alice := keys.GeneratePrivateKey()
	send := mustSendChain(t, gk, alice)
	const n = 600
	envs := make([]*Envelope, n)
	for i := range envs {
		envs[i] = mustSeal(t, send, fmt.Sprint("m", i))
		if rng.IntN(50) == 0 { // the sender restarts too
			restored, err := UnmarshalSendChain(mustMarshal(t, send), alice)
			if err != nil {
				t.Fatal(err)
			}
			send = restored
		}
	}
	// Deliver each message 0 to 3 times, in a shuffled order.
	var order []int
	for i := range n {
		for range rng.IntN(4) {
			order = append(order, i)
		}
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })

	recv := mustReceiveChain(t, gk, alice.Public())
	opened := make(map[int]bool)
	for _, i := range order {
		pt, err := recv.Open(envs[i])
		switch {
		case opened[i]:
			if !errors.Is(err, ErrReplay) {
				t.Fatalf("duplicate of %d: err = %v, want ErrReplay", i, err)
			}
		case err != nil:
			t.Fatalf("first delivery of %d: %v", i, err)
		case string(pt) != fmt.Sprint("m", i):
			t.Fatalf("message %d opened as %q", i, pt)
		default:
			opened[i] = true
		}
		if rng.IntN(20) == 0 {
			restored, err := UnmarshalReceiveChain(mustMarshal(t, recv))
			if err != nil {
				t.Fatal(err)
			}
			recv = restored
		}
	}
	for _, seq := range recv.Missing() {
		if opened[int(seq)] {
			t.Fatalf("Missing lists %d, which was opened", seq)
		}
	}
}

func TestChainConstructorsRejectZeroValues(t *testing.T) {
	gk := newGroupKey(t)
	sk := keys.GeneratePrivateKey()
	noKey := gk
	noKey.Key = EpochKey{}
	noGroup := gk
	noGroup.Group = ID{}
	tests := []struct {
		name string
		err  error
	}{
		{"send: zero epoch key", err1(NewSendChain(noKey, sk))},
		{"send: zero group", err1(NewSendChain(noGroup, sk))},
		{"send: zero signer", err1(NewSendChain(gk, keys.PrivateKey{}))},
		{"receive: zero epoch key", err1(NewReceiveChain(noKey, sk.Public()))},
		{"receive: zero sender", err1(NewReceiveChain(gk, keys.PublicKey{}))},
		{"send chain restored with another key", err1(UnmarshalSendChain(mustMarshal(t, mustSendChain(t, gk, sk)), keys.GeneratePrivateKey()))},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, ErrMalformed) {
			t.Errorf("%s: err = %v, want ErrMalformed", tc.name, tc.err)
		}
	}
}

func TestGroupKeyRoundTrip(t *testing.T) {
	gk := newGroupKey(t)
	gk.Epoch = 42
	back, err := UnmarshalGroupKey(mustMarshal(t, gk))
	if err != nil {
		t.Fatal(err)
	}
	if back.Group != gk.Group || back.Epoch != gk.Epoch || !back.Key.Equal(gk.Key) {
		t.Fatalf("round trip changed the group key: %v", back)
	}
	if _, err := (GroupKey{Group: gk.Group}).MarshalBinary(); !errors.Is(err, ErrMalformed) {
		t.Errorf("MarshalBinary with zero key: err = %v, want ErrMalformed", err)
	}
}

func TestZeroChains(t *testing.T) {
	var send SendChain
	var recv ReceiveChain
	e := mustSeal(t, mustSendChain(t, newGroupKey(t), keys.GeneratePrivateKey()), "x")
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"seal", err1(send.Seal([]byte("x"))), ErrMalformed},
		{"marshal send", err1(send.MarshalBinary()), ErrMalformed},
		{"marshal receive", err1(recv.MarshalBinary()), ErrMalformed},
		{"open", err1(recv.Open(e)), ErrWrongChain},
	}
	for _, tc := range tests {
		if !errors.Is(tc.err, tc.want) {
			t.Errorf("%s on a zero chain: err = %v, want %v", tc.name, tc.err, tc.want)
		}
	}
	if send.String() != "group.SendChain(zero)" {
		t.Errorf("String of a zero SendChain = %q", send.String())
	}
	_ = recv.String() // must not panic
}

// Every member must derive the same chains, so the derivation is pinned by a
// known answer computed independently (Python's hmac and hashlib, RFC 5869
// HKDF): group A0..BF, epoch key 40..5F, epoch 5, sender 11 repeated.
func TestChainDerivationKnownAnswer(t *testing.T) {
	var sender keys.PublicKey
	for i := range sender {
		sender[i] = 0x11
	}
	pos := chainPosition{ck: firstChainKey(fuzzGroupKey(5), sender)}
	mk0, pos := pos.step()
	mk1, _ := pos.step()
	tests := []struct {
		name string
		got  [32]byte
		want string
	}{
		{"chain key 0", firstChainKey(fuzzGroupKey(5), sender), "64e036e5fc4b8f7267bdf8065df40a77ec6df8697bfaf940a3296be8d10de706"},
		{"message key 0", mk0, "d699fb8563b9e314964921514091dc1fd675cae33bac8479364d7b8db4c53c08"},
		{"message key 1", mk1, "b6a3dcd25d89f175940b2de1599f708420e06e2ea637cc1167427eeca16b8d44"},
	}
	for _, tc := range tests {
		if got := hex.EncodeToString(tc.got[:]); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.name, got, tc.want)
		}
	}
}
