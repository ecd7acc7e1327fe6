package dm

import (
	"errors"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/crypto/x3dh"
	"github.com/backchannel/backchannel/storage"
)

// Session slots in the store: the session used for sending, and the one kept
// to decrypt messages still in flight on an older session (after a restart
// of the session by the peer, or a tie when both started one at once).
const (
	slotCurrent  = "current"
	slotPrevious = "previous"
)

// peerState caches a peer's ratchet sessions. Its mutex serialises all
// session changes for that peer; the store is written in the same
// transaction as the messages that changed them, and the cache is dropped
// whenever such a transaction fails.
type peerState struct {
	mu     sync.Mutex
	loaded bool
	cur    *ratchet.Session
	prev   *ratchet.Session
	// outboxFloor: every outbox entry to this peer created before it has
	// been acked, so outbox reads start there (see storage.Txn.OutboxFrom).
	outboxFloor time.Time
	// floorReset: entries were queued without this lock (QueueControls):
	// the deliverer must not raise the floor past what it has not read.
	floorReset bool
	// sealOK: no entry waits plain (unencrypted) in this peer's outbox, so
	// a send may be encrypted as it is stored (commitSends) and still keep
	// the encryption order the outbox order. The deliverer sets it once it
	// has encrypted every entry it found; a plain entry queued under this
	// lock clears it, as do KickOutbox (entries queued outside the lock)
	// and dropping the cache. A group control queued outside the lock that
	// commits before KickOutbox clears it is put back in order by
	// keepSealOrder.
	sealOK bool
}

type peerTable struct {
	mu sync.Mutex
	m  map[peer.ID]*peerState
}

func newPeerTable() *peerTable { return &peerTable{m: map[peer.ID]*peerState{}} }

func (t *peerTable) get(p peer.ID) *peerState {
	t.mu.Lock()
	defer t.mu.Unlock()
	ps, ok := t.m[p]
	if !ok {
		ps = &peerState{}
		t.m[p] = ps
	}
	return ps
}

func loadSlot(tx *storage.Txn, p peer.ID, slot string) (*ratchet.Session, error) {
	b, err := tx.Session(p, slot)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return ratchet.UnmarshalSession(b)
}

// load fills the cache from the store. Call with ps.mu held.
func (ps *peerState) load(tx *storage.Txn, p peer.ID) error {
	if ps.loaded {
		return nil
	}
	cur, err := loadSlot(tx, p, slotCurrent)
	if err != nil {
		return err
	}
	prev, err := loadSlot(tx, p, slotPrevious)
	if err != nil {
		return err
	}
	ps.cur, ps.prev, ps.loaded = cur, prev, true
	return nil
}

// save writes the sessions to the store. Call with ps.mu held.
func (ps *peerState) save(tx *storage.Txn, p peer.ID) error {
	for _, s := range []struct {
		slot string
		sess *ratchet.Session
	}{{slotCurrent, ps.cur}, {slotPrevious, ps.prev}} {
		if s.sess == nil {
			if err := tx.DeleteSession(p, s.slot); err != nil {
				return err
			}
			continue
		}
		b, err := s.sess.MarshalBinary()
		if err != nil {
			return err
		}
		if err := tx.PutSession(p, s.slot, b); err != nil {
			return err
		}
	}
	return nil
}

// invalidate drops the cache after a failed transaction, so the next use
// reloads what the store really holds. Call with ps.mu held.
func (ps *peerState) invalidate() {
	ps.cur, ps.prev, ps.loaded, ps.sealOK = nil, nil, false, false
}

// canSealNow reports whether a send stored now may be encrypted in its
// storing transaction: the session can send without a stamp or the X3DH
// header's wait for a reply, and nothing plain is queued before it. Call
// with ps.mu held and the sessions loaded.
func (ps *peerState) canSealNow() bool {
	return ps.sealOK && ps.cur != nil && ps.cur.CanSend() && !ps.cur.AwaitingReply()
}

// adopt installs a responder session made from a peer's X3DH header. When
// both sides started a session at once, both keep the one started by the
// lower key for sending (ratchet.KeepSessionOf); otherwise the peer has
// restarted the session and the new one replaces ours.
func (ps *peerState) adopt(s *ratchet.Session) {
	if ps.cur != nil && ps.cur.AwaitingReply() &&
		ratchet.KeepSessionOf(ps.cur.Local().Key, s.Remote().Key) == ps.cur.Local().Key {
		ps.prev = s // ours wins: theirs only decrypts what is in flight
		return
	}
	ps.prev, ps.cur = ps.cur, s
}

// candidates lists the sessions that may decrypt a message, without
// changing state. A message with an X3DH header belongs only to the responder
// session that header started; others to the current, then the previous one.
func (ps *peerState) candidates(h *x3dh.Header) []*ratchet.Session {
	var out []*ratchet.Session
	for _, s := range []*ratchet.Session{ps.cur, ps.prev} {
		if s != nil && (h == nil || s.StartedBy(*h)) {
			out = append(out, s)
		}
	}
	return out
}

// updateSessions runs fn in a store transaction with p's sessions loaded.
// fn may change the cached sessions (encrypting or decrypting advances
// them); if the transaction is retried or fails, the cache is dropped so that
// it never runs ahead of the store. Call with ps.mu held.
func (d *Service) updateSessions(ps *peerState, p peer.ID, fn func(tx *storage.Txn) error) error {
	first := true
	err := d.env.Store.Update(func(tx *storage.Txn) error {
		if !first {
			ps.invalidate()
		}
		first = false
		if err := ps.load(tx, p); err != nil {
			return err
		}
		return fn(tx)
	})
	if err != nil {
		ps.invalidate()
	}
	return err
}

// SessionInitiator tells who started the session this node sends to p on,
// and whether an older session is kept beside it (after a tie or a restart).
// ok is false without a session. For tests and diagnostics.
func (d *Service) SessionInitiator(p peer.ID) (initiator keys.PublicKey, hasPrevious, ok bool) {
	ps := d.peers.get(p)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.cur == nil {
		return keys.PublicKey{}, false, false
	}
	return ps.cur.Initiator(), ps.prev != nil, true
}
