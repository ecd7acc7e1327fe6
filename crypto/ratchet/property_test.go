package ratchet

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// wireMsg is a message in flight in the simulation.
type wireMsg struct {
	to   int // receiver: 0 = initiator, 1 = responder
	text string
	data []byte
}

// sim drives two sessions through a random schedule of sends, deliveries in
// random order, drops, duplicates, tampering and persist/restore, and checks
// that every message that is not dropped decrypts exactly once.
type sim struct {
	t        *testing.T
	rng      *rand.Rand
	alice    *peer
	bob      *peer
	s        [2]*Session // s[1] is nil until bob receives the first message
	pending  []wireMsg
	done     []wireMsg // delivered, for duplicates
	got      map[string]int
	sent     int
	dropped  map[string]bool
	maxAhead int
}

func newSim(t *testing.T, seed uint64) *sim {
	alice, bob := newPeer(), newPeer()
	a, err := Initiate(alice.id, bob.bundle(), now)
	if err != nil {
		t.Fatal(err)
	}
	return &sim{
		t: t, rng: rand.New(rand.NewPCG(seed, seed^0x5eed)), alice: alice, bob: bob,
		s: [2]*Session{a, nil}, got: map[string]int{}, dropped: map[string]bool{}, maxAhead: 60,
	}
}

func (m *sim) send(from int) {
	s := m.s[from]
	if s == nil || !s.CanSend() || m.countTo(1-from) >= m.maxAhead {
		return
	}
	text := fmt.Sprintf("%d:%d:%x", from, m.sent, m.rng.Uint64())
	m.sent++
	msg, err := s.Encrypt([]byte(text))
	if err != nil {
		m.t.Fatalf("Encrypt: %v", err)
	}
	data, err := msg.MarshalBinary()
	if err != nil {
		m.t.Fatal(err)
	}
	m.pending = append(m.pending, wireMsg{to: 1 - from, text: text, data: data})
}

func (m *sim) countTo(to int) int {
	n := 0
	for _, w := range m.pending {
		if w.to == to {
			n++
		}
	}
	return n
}

func (m *sim) take() (wireMsg, bool) {
	if len(m.pending) == 0 {
		return wireMsg{}, false
	}
	i := m.rng.IntN(len(m.pending))
	w := m.pending[i]
	m.pending[i] = m.pending[len(m.pending)-1]
	m.pending = m.pending[:len(m.pending)-1]
	return w, true
}

func (m *sim) session(w wireMsg, msg Message) *Session {
	if w.to == 1 && m.s[1] == nil {
		if msg.X3DH == nil {
			m.t.Fatal("first message to the responder has no X3DH header")
		}
		s, err := Respond(m.bob.id, m.bob.spk, &m.bob.opk, *msg.X3DH)
		if err != nil {
			m.t.Fatalf("Respond: %v", err)
		}
		m.s[1] = s
	} else if w.to == 1 && msg.X3DH != nil && !m.s[1].StartedBy(*msg.X3DH) {
		m.t.Fatal("repeated X3DH header not recognised")
	}
	return m.s[w.to]
}

func (m *sim) deliver() {
	w, ok := m.take()
	if !ok {
		return
	}
	msg, err := UnmarshalMessage(w.data)
	if err != nil {
		m.t.Fatalf("UnmarshalMessage: %v", err)
	}
	pt, err := m.session(w, msg).Decrypt(msg)
	if err != nil {
		m.t.Fatalf("Decrypt %q: %v", w.text, err)
	}
	if string(pt) != w.text {
		m.t.Fatalf("Decrypt = %q, want %q", pt, w.text)
	}
	m.got[w.text]++
	m.done = append(m.done, w)
}

func (m *sim) duplicate() {
	if len(m.done) == 0 {
		return
	}
	w := m.done[m.rng.IntN(len(m.done))]
	msg, err := UnmarshalMessage(w.data)
	if err != nil {
		m.t.Fatal(err)
	}
	s := m.s[w.to]
	before := state(m.t, s)
	// A session remembers the peer's last maxPastRemoteKeys ratchet keys; a
	// duplicate from an older chain looks like a new ratchet step and fails
	// authentication instead. Either way it never decrypts twice.
	want := ErrDuplicate
	if msg.Header.DH != s.remoteDH && !s.isPastRemote(msg.Header.DH) {
		want = ErrDecrypt
	}
	if _, err := s.Decrypt(msg); !errors.Is(err, want) {
		m.t.Fatalf("duplicate %q: err = %v, want %v", w.text, err, want)
	}
	if !bytes.Equal(before, state(m.t, s)) {
		m.t.Fatal("a duplicate changed the session")
	}
}

func (m *sim) drop() {
	if w, ok := m.take(); ok {
		m.dropped[w.text] = true
	}
}

// tamper decrypts a corrupted copy of a pending message; the genuine one
// stays pending and must still decrypt later.
func (m *sim) tamper() {
	if len(m.pending) == 0 {
		return
	}
	w := m.pending[m.rng.IntN(len(m.pending))]
	s := m.s[w.to]
	if s == nil {
		return
	}
	bad := append([]byte(nil), w.data...)
	bad[m.rng.IntN(len(bad))] ^= byte(1 << m.rng.IntN(8))
	msg, err := UnmarshalMessage(bad)
	if err != nil {
		return // rejected by the decoder: fine
	}
	before := state(m.t, s)
	if pt, err := s.Decrypt(msg); err == nil {
		m.t.Fatalf("tampered message decrypted to %q", pt)
	}
	if !bytes.Equal(before, state(m.t, s)) {
		m.t.Fatal("a tampered message changed the session")
	}
}

func (m *sim) persist() {
	i := m.rng.IntN(2)
	if m.s[i] == nil {
		return
	}
	enc := state(m.t, m.s[i])
	back, err := UnmarshalSession(enc)
	if err != nil {
		m.t.Fatalf("UnmarshalSession: %v", err)
	}
	if !bytes.Equal(enc, state(m.t, back)) {
		m.t.Fatal("state changed across persist and restore")
	}
	m.s[i] = back
}

func TestRandomSchedules(t *testing.T) {
	seeds, steps := 12, 2500
	if testing.Short() {
		seeds, steps = 3, 1000
	}
	for seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			m := newSim(t, uint64(seed))
			for range steps {
				switch r := m.rng.IntN(100); {
				case r < 22:
					m.send(0)
				case r < 44:
					m.send(1)
				case r < 80:
					m.deliver()
				case r < 86:
					m.duplicate()
				case r < 89:
					m.drop()
				case r < 95:
					m.tamper()
				default:
					m.persist()
				}
			}
			for len(m.pending) > 0 {
				m.deliver()
			}
			if m.s[1] == nil {
				t.Fatal("the responder never received anything")
			}
			for text, n := range m.got {
				if n != 1 {
					t.Fatalf("%q decrypted %d times", text, n)
				}
				if m.dropped[text] {
					t.Fatalf("dropped %q was delivered", text)
				}
			}
			if len(m.got)+len(m.dropped) != m.sent {
				t.Fatalf("sent %d, delivered %d, dropped %d", m.sent, len(m.got), len(m.dropped))
			}
			t.Logf("sent %d, delivered %d, dropped %d", m.sent, len(m.got), len(m.dropped))
		})
	}
}
