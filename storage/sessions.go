package storage

import (
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"
)

// sessionKey is s/<peer><slot>.
func sessionKey(p peer.ID, slot string) ([]byte, error) {
	if slot == "" {
		return nil, fmt.Errorf("%w: empty session slot", ErrInvalid)
	}
	k, err := peerKey(prefixSession, p, len(slot))
	if err != nil {
		return nil, err
	}
	return append(k, slot...), nil
}

// Session returns p's ratchet session in slot (e.g. "current", "previous"),
// opaque bytes from crypto/ratchet, or ErrNotFound.
func (t *Txn) Session(p peer.ID, slot string) ([]byte, error) {
	k, err := sessionKey(p, slot)
	if err != nil {
		return nil, fmt.Errorf("storage: session: %w", err)
	}
	b, err := t.get(k)
	if err != nil {
		return nil, fmt.Errorf("storage: session %s/%s: %w", p, slot, err)
	}
	return b, nil
}

// PutSession stores p's ratchet session in slot.
func (t *Txn) PutSession(p peer.ID, slot string, b []byte) error {
	k, err := sessionKey(p, slot)
	if err != nil {
		return fmt.Errorf("storage: put session: %w", err)
	}
	if len(b) == 0 {
		return fmt.Errorf("storage: put session: %w: empty", ErrInvalid)
	}
	return wrap("put session", t.set(k, b))
}

// DeleteSession deletes p's session in slot; a missing one is not an error.
func (t *Txn) DeleteSession(p peer.ID, slot string) error {
	k, err := sessionKey(p, slot)
	if err != nil {
		return fmt.Errorf("storage: delete session: %w", err)
	}
	return wrap("delete session", t.delete(k))
}

// DeleteSessions deletes all of p's sessions.
func (t *Txn) DeleteSessions(p peer.ID) error {
	k, err := peerKey(prefixSession, p, 0)
	if err != nil {
		return fmt.Errorf("storage: delete sessions: %w", err)
	}
	return wrap("delete sessions", t.deletePrefix(k))
}
