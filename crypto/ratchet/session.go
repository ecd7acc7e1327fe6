package ratchet

import (
	"fmt"
	"math"
	"time"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/internal/aead"
	"github.com/backchannel/backchannel/crypto/internal/kdf"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/x3dh"
)

// Limits on skipped message keys.
const (
	// MaxSkip is how many message keys one message may skip over in one chain.
	MaxSkip = 1000
	// MaxSkippedKeys is how many skipped message keys a session keeps; past
	// it, the oldest are dropped and their messages fail with ErrDuplicate.
	MaxSkippedKeys = 2000
	// maxPastRemoteKeys is how many of the peer's old ratchet keys a session
	// remembers, to tell a late duplicate (ErrDuplicate) from a new ratchet
	// step; a duplicate from an older chain fails with ErrDecrypt.
	maxPastRemoteKeys = 64
)

const (
	infoRoot     = "backchannel/ratchet/root/v1"
	labelMessage = "backchannel/ratchet/message/v1"
)

// chain is one symmetric-key ratchet.
type chain struct {
	key kdf.Key
	n   uint32
	ok  bool
}

type skippedID struct {
	dh keys.DHPublic
	n  uint32
}

type skippedKey struct {
	id skippedID
	mk kdf.Key
}

// Session is one side of a Double Ratchet session.
type Session struct {
	local, remote identity.PublicIdentity
	initiator     bool
	ad            []byte

	rootKey  kdf.Key
	self     keys.DHPrivate
	selfPub  keys.DHPublic
	remoteDH keys.DHPublic // zero until the responder first receives
	send     chain
	recv     chain
	pn       uint32

	// skipped holds message keys of messages not yet received; order lists
	// them oldest first and may hold IDs already used (removed lazily).
	skipped      map[skippedID]kdf.Key
	skippedOrder []skippedID
	pastRemote   []keys.DHPublic

	pendingX3DH        *x3dh.Header  // initiator: sent until the first reply
	initiatorEphemeral keys.DHPublic // responder: identifies the X3DH header
}

// Initiate starts a session as the initiator, from the responder's bundle
// (verified here). The first messages carry the X3DH header.
func Initiate(self identity.Identity, bundle identity.Bundle, now time.Time) (*Session, error) {
	r, h, err := x3dh.Initiate(self, bundle, now)
	if err != nil {
		return nil, err
	}
	return NewInitiator(r, h)
}

// NewInitiator starts a session from the initiator's X3DH result.
func NewInitiator(r x3dh.Result, h x3dh.Header) (*Session, error) {
	s := newSession(r, true)
	s.remoteDH = r.ResponderRatchetKey
	s.setSelf(keys.GenerateDH())
	dh, err := s.self.DH(s.remoteDH)
	if err != nil {
		return nil, fmt.Errorf("ratchet: %w", err)
	}
	s.rootKey, s.send.key = kdf.HKDF2(dh[:], s.rootKey[:], infoRoot)
	s.send.ok = true
	s.pendingX3DH = &h
	return s, nil
}

// Respond starts a session as the responder from an X3DH header received
// with a message; spk and opk are the prekeys the header names (opk nil when
// it names none). The caller deletes opk once the first message decrypts.
func Respond(self identity.Identity, spk identity.SignedPreKeyPair, opk *identity.OneTimePreKeyPair, h x3dh.Header) (*Session, error) {
	r, err := x3dh.Respond(self, spk, opk, h)
	if err != nil {
		return nil, err
	}
	return NewResponder(r, spk.Private, h), nil
}

// NewResponder starts a session from the responder's X3DH result; spk is
// the signed prekey's private key, the responder's first ratchet key.
func NewResponder(r x3dh.Result, spk keys.DHPrivate, h x3dh.Header) *Session {
	s := newSession(r, false)
	s.setSelf(spk)
	s.initiatorEphemeral = h.Ephemeral
	return s
}

func newSession(r x3dh.Result, initiator bool) *Session {
	return &Session{
		local:     r.Local,
		remote:    r.Remote,
		initiator: initiator,
		ad:        append([]byte(nil), r.AssociatedData...),
		rootKey:   r.Secret.Key(),
		skipped:   map[skippedID]kdf.Key{},
	}
}

func (s *Session) setSelf(k keys.DHPrivate) {
	s.self, s.selfPub = k, k.Public()
}

// Local returns this side's identity.
func (s *Session) Local() identity.PublicIdentity { return s.local }

// Remote returns the peer's identity.
func (s *Session) Remote() identity.PublicIdentity { return s.remote }

// Initiator returns the identity of the side that started the session.
func (s *Session) Initiator() keys.PublicKey {
	if s.initiator {
		return s.local.Key
	}
	return s.remote.Key
}

// CanSend reports whether Encrypt will work: always for the initiator, and
// for the responder once it has received a message.
func (s *Session) CanSend() bool { return s.send.ok }

// AwaitingReply reports whether the initiator has not yet heard back, so its
// messages still carry the X3DH header.
func (s *Session) AwaitingReply() bool { return s.pendingX3DH != nil }

// StartedBy reports whether this responder session was made from the X3DH
// header h, so that a repeated header (on every message until the initiator
// hears back) reuses the session instead of starting another.
func (s *Session) StartedBy(h x3dh.Header) bool {
	return !s.initiator && s.initiatorEphemeral == h.Ephemeral && s.remote.Equal(h.Initiator)
}

// String names the session by its two peers; it never prints secrets.
func (s *Session) String() string {
	return fmt.Sprintf("ratchet.Session(%s ↔ %s)", s.local.Key, s.remote.Key)
}

// associatedData binds the session's identities, the header and the X3DH
// header (or its absence) into every message, so that none can be altered,
// added or stripped.
func (s *Session) associatedData(h Header, x *x3dh.Header) []byte {
	b := make([]byte, 0, len(s.ad)+HeaderSize+1+160)
	b = append(b, s.ad...) // fixed length for a session: no prefix needed
	b = h.appendTo(b)
	if x == nil {
		return append(b, 0)
	}
	return x.AppendCanonical(append(b, 1))
}

// Encrypt seals plaintext as the next message of the session. The returned
// message's bytes are what the caller stores and retransmits: a message is
// never encrypted twice.
func (s *Session) Encrypt(plaintext []byte) (Message, error) {
	if len(plaintext) > MaxPlaintext {
		return Message{}, fmt.Errorf("%w: %d bytes, limit %d", ErrTooLarge, len(plaintext), MaxPlaintext)
	}
	if !s.send.ok {
		return Message{}, ErrNotReady
	}
	if s.send.n == math.MaxUint32 {
		return Message{}, fmt.Errorf("%w: sending chain exhausted", ErrNotReady)
	}
	next, mk := kdf.ChainStep(s.send.key)
	h := Header{DH: s.selfPub, PN: s.pn, N: s.send.n}
	m := Message{Header: h}
	if s.pendingX3DH != nil {
		xh := *s.pendingX3DH
		m.X3DH = &xh
	}
	m.Ciphertext = aead.Seal(mk, labelMessage, plaintext, s.associatedData(h, m.X3DH))
	s.send.key = next
	s.send.n++
	return m, nil
}
