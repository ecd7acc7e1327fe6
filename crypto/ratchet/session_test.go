package ratchet

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/identity"
)

var now = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

type peer struct {
	id  identity.Identity
	spk identity.SignedPreKeyPair
	opk identity.OneTimePreKeyPair
}

func newPeer() *peer {
	id := identity.New()
	return &peer{id: id, spk: id.NewSignedPreKey(1, now.Add(24*time.Hour)), opk: identity.NewOneTimePreKey(1)}
}

func (p *peer) bundle() identity.Bundle {
	return p.id.NewBundle(p.spk.SignedPreKey, &p.opk.OneTimePreKey, 0)
}

// pair starts a session from a to b and delivers a's first message to b.
func pair(t testing.TB) (a, b *Session) {
	t.Helper()
	alice, bob := newPeer(), newPeer()
	a, err := Initiate(alice.id, bob.bundle(), now)
	if err != nil {
		t.Fatal(err)
	}
	m, err := a.Encrypt([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b = respond(t, bob, m)
	if pt, err := b.Decrypt(m); err != nil || string(pt) != "hello" {
		t.Fatalf("first message: %q, %v", pt, err)
	}
	return a, b
}

// established is pair after one reply, so that no message carries the X3DH
// header any more: the steady state of a session.
func established(t testing.TB) (a, b *Session) {
	t.Helper()
	a, b = pair(t)
	mustDecrypt(t, a, mustEncrypt(t, b, "reply"), "reply")
	return a, b
}

func respond(t testing.TB, p *peer, m Message) *Session {
	t.Helper()
	if m.X3DH == nil {
		t.Fatal("first message carries no X3DH header")
	}
	s, err := Respond(p.id, p.spk, &p.opk, *m.X3DH)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func roundTrip(t testing.TB, m Message) Message {
	t.Helper()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnmarshalMessage(b)
	if err != nil {
		t.Fatal(err)
	}
	return back
}

func mustEncrypt(t testing.TB, s *Session, text string) Message {
	t.Helper()
	m, err := s.Encrypt([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return roundTrip(t, m)
}

func mustDecrypt(t testing.TB, s *Session, m Message, want string) {
	t.Helper()
	pt, err := s.Decrypt(m)
	if err != nil {
		t.Fatalf("Decrypt(%q): %v", want, err)
	}
	if string(pt) != want {
		t.Fatalf("Decrypt = %q, want %q", pt, want)
	}
}

func state(t testing.TB, s *Session) []byte {
	t.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConversation(t *testing.T) {
	a, b := pair(t)
	if !a.AwaitingReply() {
		t.Fatal("initiator should await a reply")
	}
	for i := range 5 {
		mustDecrypt(t, b, mustEncrypt(t, a, fmt.Sprint("a", i)), fmt.Sprint("a", i))
		mustDecrypt(t, a, mustEncrypt(t, b, fmt.Sprint("b", i)), fmt.Sprint("b", i))
		if a.AwaitingReply() {
			t.Fatal("initiator still awaits a reply after one")
		}
	}
	if m := mustEncrypt(t, a, "x"); m.X3DH != nil {
		t.Fatal("X3DH header still sent after the reply")
	}
}

func TestResponderCannotSendFirst(t *testing.T) {
	alice, bob := newPeer(), newPeer()
	a, err := Initiate(alice.id, bob.bundle(), now)
	if err != nil {
		t.Fatal(err)
	}
	m := mustEncrypt(t, a, "hi")
	b := respond(t, bob, m)
	if _, err := b.Encrypt([]byte("early")); !errors.Is(err, ErrNotReady) {
		t.Fatalf("responder Encrypt before receiving: %v", err)
	}
	if !b.StartedBy(*m.X3DH) {
		t.Fatal("StartedBy does not recognise the header that started the session")
	}
}

func TestOutOfOrderAndDuplicate(t *testing.T) {
	a, b := pair(t)
	var ms []Message
	for i := range 10 {
		ms = append(ms, mustEncrypt(t, a, fmt.Sprint(i)))
	}
	for _, i := range []int{9, 0, 5, 3, 1, 2, 8, 7, 4, 6} {
		mustDecrypt(t, b, ms[i], fmt.Sprint(i))
	}
	for _, i := range []int{0, 9, 4} {
		before := state(t, b)
		if _, err := b.Decrypt(ms[i]); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("duplicate %d: err = %v, want ErrDuplicate", i, err)
		}
		if !bytes.Equal(before, state(t, b)) {
			t.Fatal("a duplicate changed the session")
		}
	}
}

func TestDuplicateFromOldChain(t *testing.T) {
	a, b := pair(t)
	old := mustEncrypt(t, a, "old")
	mustDecrypt(t, b, old, "old")
	for i := range 3 { // several ratchet steps
		mustDecrypt(t, a, mustEncrypt(t, b, fmt.Sprint("b", i)), fmt.Sprint("b", i))
		mustDecrypt(t, b, mustEncrypt(t, a, fmt.Sprint("a", i)), fmt.Sprint("a", i))
	}
	if _, err := b.Decrypt(old); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("replay from an old chain: err = %v, want ErrDuplicate", err)
	}
}

func TestSkipLimits(t *testing.T) {
	t.Run("beyond MaxSkip", func(t *testing.T) {
		a, b := pair(t)
		var last Message
		for i := 0; i <= MaxSkip+1; i++ {
			last = mustEncrypt(t, a, fmt.Sprint(i))
		}
		before := state(t, b)
		if _, err := b.Decrypt(last); !errors.Is(err, ErrTooManySkipped) {
			t.Fatalf("err = %v, want ErrTooManySkipped", err)
		}
		if !bytes.Equal(before, state(t, b)) {
			t.Fatal("a rejected message changed the session")
		}
	})
	t.Run("exactly MaxSkip", func(t *testing.T) {
		a, b := pair(t)
		var ms []Message
		for i := 0; i <= MaxSkip; i++ {
			ms = append(ms, mustEncrypt(t, a, fmt.Sprint(i)))
		}
		mustDecrypt(t, b, ms[MaxSkip], fmt.Sprint(MaxSkip))
		mustDecrypt(t, b, ms[0], "0")
	})
	t.Run("oldest skipped keys dropped past MaxSkippedKeys", func(t *testing.T) {
		a, b := pair(t)
		var skippedFirst []Message
		// Three chains, each skipping MaxSkip-1 messages: more than MaxSkippedKeys in all.
		for round := range 3 {
			var ms []Message
			for i := range MaxSkip {
				ms = append(ms, mustEncrypt(t, a, fmt.Sprint(round, ".", i)))
			}
			mustDecrypt(t, b, ms[MaxSkip-1], fmt.Sprint(round, ".", MaxSkip-1))
			if round == 0 {
				skippedFirst = ms
			}
			mustDecrypt(t, a, mustEncrypt(t, b, "turn"), "turn")
		}
		if _, err := b.Decrypt(skippedFirst[0]); !errors.Is(err, ErrDuplicate) {
			t.Fatalf("evicted key: err = %v, want ErrDuplicate", err)
		}
		if len(b.skipped) > MaxSkippedKeys {
			t.Fatalf("%d skipped keys kept, limit %d", len(b.skipped), MaxSkippedKeys)
		}
		// The newest skipped keys survive.
		mustDecrypt(t, b, skippedFirst[MaxSkip-2], fmt.Sprint(0, ".", MaxSkip-2))
	})
}

func TestTamperedMessagesRejected(t *testing.T) {
	a, b := pair(t)
	genuine := mustEncrypt(t, a, "genuine")
	other, _ := pair(t)
	foreign := mustEncrypt(t, other, "foreign")
	tests := []struct {
		name   string
		tamper func(m Message) Message
		want   error
	}{
		{"ciphertext bit", func(m Message) Message {
			m.Ciphertext = append([]byte(nil), m.Ciphertext...)
			m.Ciphertext[0] ^= 1
			return m
		}, ErrDecrypt},
		{"tag bit", func(m Message) Message {
			m.Ciphertext = append([]byte(nil), m.Ciphertext...)
			m.Ciphertext[len(m.Ciphertext)-1] ^= 0x80
			return m
		}, ErrDecrypt},
		{"header N", func(m Message) Message { m.Header.N++; return m }, ErrDecrypt},
		{"header PN", func(m Message) Message { m.Header.PN++; return m }, ErrDecrypt},
		{"header ratchet key", func(m Message) Message { m.Header.DH[3] ^= 1; return m }, ErrDecrypt},
		{"header of another session", func(m Message) Message { m.Header = foreign.Header; return m }, ErrDecrypt},
		{"another session's message", func(Message) Message { return foreign }, ErrDecrypt},
		{"X3DH header stripped", func(m Message) Message { m.X3DH = nil; return m }, ErrDecrypt},
		{"X3DH header of another session", func(m Message) Message { m.X3DH = foreign.X3DH; return m }, ErrDecrypt},
	}
	if genuine.X3DH == nil || foreign.X3DH == nil {
		t.Fatal("test expects messages that still carry the X3DH header")
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := state(t, b)
			if _, err := b.Decrypt(tc.tamper(genuine)); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !bytes.Equal(before, state(t, b)) {
				t.Fatal("a rejected message changed the session")
			}
		})
	}
	mustDecrypt(t, b, genuine, "genuine")
	mustDecrypt(t, a, mustEncrypt(t, b, "still works"), "still works")
}

func TestStateRoundTrip(t *testing.T) {
	a, b := pair(t)
	pending := mustEncrypt(t, a, "in flight")
	mustEncrypt(t, a, "dropped") // leaves a skipped key at b later
	after := mustEncrypt(t, a, "after")
	mustDecrypt(t, b, after, "after")
	for _, s := range []*Session{a, b} {
		enc := state(t, s)
		back, err := UnmarshalSession(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(enc, state(t, back)) {
			t.Fatal("state changed across a round trip")
		}
	}
	b2, err := UnmarshalSession(state(t, b))
	if err != nil {
		t.Fatal(err)
	}
	mustDecrypt(t, b2, pending, "in flight")
	mustDecrypt(t, a, mustEncrypt(t, b2, "reply"), "reply")
}

func TestSimultaneousInitiation(t *testing.T) {
	alice, bob := newPeer(), newPeer()
	a1, err := Initiate(alice.id, bob.bundle(), now)
	if err != nil {
		t.Fatal(err)
	}
	b1, err := Initiate(bob.id, alice.bundle(), now)
	if err != nil {
		t.Fatal(err)
	}
	fromA := mustEncrypt(t, a1, "from a")
	fromB := mustEncrypt(t, b1, "from b")
	// Each receives the other's first message and makes a responder session.
	a2 := respond(t, alice, fromB)
	mustDecrypt(t, a2, fromB, "from b")
	b2 := respond(t, bob, fromA)
	mustDecrypt(t, b2, fromA, "from a")

	winner := KeepSessionOf(alice.id.Public().Key, bob.id.Public().Key)
	if winner != KeepSessionOf(bob.id.Public().Key, alice.id.Public().Key) {
		t.Fatal("tie-break is not symmetric")
	}
	pick := func(mine, theirs *Session) *Session {
		if mine.Initiator() == winner {
			return mine
		}
		return theirs
	}
	aKeep, bKeep := pick(a1, a2), pick(b1, b2)
	if aKeep.Initiator() != bKeep.Initiator() {
		t.Fatal("the two sides kept different sessions")
	}
	// The kept sessions are the two ends of one session.
	for i := range 3 {
		mustDecrypt(t, bKeep, mustEncrypt(t, aKeep, fmt.Sprint("a", i)), fmt.Sprint("a", i))
		mustDecrypt(t, aKeep, mustEncrypt(t, bKeep, fmt.Sprint("b", i)), fmt.Sprint("b", i))
	}
}

func TestEncryptTooLarge(t *testing.T) {
	a, _ := pair(t)
	if _, err := a.Encrypt(make([]byte, MaxPlaintext+1)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if _, err := a.Encrypt(make([]byte, MaxPlaintext)); err != nil {
		t.Fatalf("largest message: %v", err)
	}
}

func TestDecodersRejectGarbage(t *testing.T) {
	a, _ := pair(t)
	good, err := mustEncrypt(t, a, "x").MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"garbage", []byte{0xff, 0x01, 0x02}, ErrMalformed},
		{"truncated", good[:len(good)-3], ErrMalformed},
		{"oversized", make([]byte, MaxMessageSize+1), ErrTooLarge},
	}
	for _, tc := range tests {
		if _, err := UnmarshalMessage(tc.data); !errors.Is(err, tc.want) {
			t.Errorf("%s: UnmarshalMessage err = %v, want %v", tc.name, err, tc.want)
		}
		if _, err := UnmarshalSession(tc.data); err == nil {
			t.Errorf("%s: UnmarshalSession accepted it", tc.name)
		}
	}
	h := make([]byte, HeaderSize)
	h[0] = headerVersion
	if _, err := UnmarshalHeader(h); !errors.Is(err, ErrMalformed) {
		t.Errorf("zero ratchet key in header: %v", err)
	}
	h[0] = 2
	h[5] = 1
	if _, err := UnmarshalHeader(h); !errors.Is(err, ErrMalformed) {
		t.Errorf("unknown header version: %v", err)
	}
}
