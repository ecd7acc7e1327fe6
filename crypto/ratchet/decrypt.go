package ratchet

import (
	"fmt"

	"github.com/backchannel/backchannel/crypto/internal/aead"
	"github.com/backchannel/backchannel/crypto/internal/kdf"
	"github.com/backchannel/backchannel/crypto/keys"
)

// Decrypt authenticates and decrypts a message of this session. On any error
// the session is unchanged, so a forged or corrupted message cannot break it.
func (s *Session) Decrypt(m Message) ([]byte, error) {
	h := m.Header
	if h.DH.IsZero() {
		return nil, fmt.Errorf("%w: zero ratchet key", ErrMalformed)
	}
	if mk, ok := s.skipped[skippedID{h.DH, h.N}]; ok {
		pt, err := aead.Open(mk, labelMessage, m.Ciphertext, s.associatedData(h, m.X3DH))
		if err != nil {
			return nil, ErrDecrypt
		}
		delete(s.skipped, skippedID{h.DH, h.N})
		s.pendingX3DH = nil
		return pt, nil
	}

	// Work on copies; commit only once the message has authenticated.
	var (
		rootKey   = s.rootKey
		recv      = s.recv
		send      = s.send
		pn        = s.pn
		self      = s.self
		newKeys   []skippedKey
		ratcheted bool
		err       error
	)
	if !recv.ok || h.DH != s.remoteDH {
		if s.isPastRemote(h.DH) {
			return nil, fmt.Errorf("%w: old ratchet key", ErrDuplicate)
		}
		if recv.ok {
			if newKeys, err = skipTo(&recv, s.remoteDH, h.PN, newKeys); err != nil {
				return nil, err
			}
		}
		dh, err := self.DH(h.DH)
		if err != nil {
			return nil, ErrDecrypt
		}
		rootKey, recv.key = kdf.HKDF2(dh[:], rootKey[:], infoRoot)
		recv.n, recv.ok = 0, true
		self = keys.GenerateDH()
		dh, err = self.DH(h.DH)
		if err != nil {
			return nil, ErrDecrypt
		}
		rootKey, send.key = kdf.HKDF2(dh[:], rootKey[:], infoRoot)
		pn, send.n, send.ok = send.n, 0, true
		ratcheted = true
	}
	if h.N < recv.n {
		return nil, fmt.Errorf("%w: message %d, chain at %d", ErrDuplicate, h.N, recv.n)
	}
	if newKeys, err = skipTo(&recv, h.DH, h.N, newKeys); err != nil {
		return nil, err
	}
	var mk kdf.Key
	recv.key, mk = kdf.ChainStep(recv.key)
	recv.n++
	pt, err := aead.Open(mk, labelMessage, m.Ciphertext, s.associatedData(h, m.X3DH))
	if err != nil {
		return nil, ErrDecrypt
	}

	if ratcheted {
		if s.recv.ok {
			s.rememberRemote(s.remoteDH)
		}
		s.remoteDH = h.DH
		s.setSelf(self)
		s.send, s.pn = send, pn
	}
	s.rootKey, s.recv = rootKey, recv
	s.addSkipped(newKeys)
	s.pendingX3DH = nil
	return pt, nil
}

// skipTo advances c to message number until, collecting the keys it passes.
func skipTo(c *chain, dh keys.DHPublic, until uint32, out []skippedKey) ([]skippedKey, error) {
	if until <= c.n {
		return out, nil
	}
	if until-c.n > MaxSkip {
		return nil, fmt.Errorf("%w: %d in one chain, limit %d", ErrTooManySkipped, until-c.n, MaxSkip)
	}
	for c.n < until {
		var mk kdf.Key
		c.key, mk = kdf.ChainStep(c.key)
		out = append(out, skippedKey{skippedID{dh, c.n}, mk})
		c.n++
	}
	return out, nil
}

func (s *Session) addSkipped(ks []skippedKey) {
	for _, k := range ks {
		s.skipped[k.id] = k.mk
		s.skippedOrder = append(s.skippedOrder, k.id)
	}
	// Drop the oldest keys beyond the limit; skippedOrder may also name keys
	// already used, which are skipped over here and compacted away.
	for len(s.skipped) > MaxSkippedKeys {
		id := s.skippedOrder[0]
		s.skippedOrder = s.skippedOrder[1:]
		delete(s.skipped, id)
	}
	if len(s.skippedOrder) > 2*MaxSkippedKeys || len(s.skippedOrder) > 64 && len(s.skippedOrder) > 4*len(s.skipped) {
		s.compactSkipped()
	}
}

func (s *Session) compactSkipped() {
	live := make([]skippedID, 0, len(s.skipped))
	for _, id := range s.skippedOrder {
		if _, ok := s.skipped[id]; ok {
			live = append(live, id)
		}
	}
	s.skippedOrder = live
}

func (s *Session) isPastRemote(dh keys.DHPublic) bool {
	for _, k := range s.pastRemote {
		if k == dh {
			return true
		}
	}
	return false
}

func (s *Session) rememberRemote(dh keys.DHPublic) {
	if dh.IsZero() {
		return
	}
	s.pastRemote = append(s.pastRemote, dh)
	if len(s.pastRemote) > maxPastRemoteKeys {
		s.pastRemote = s.pastRemote[len(s.pastRemote)-maxPastRemoteKeys:]
	}
}
