package dm

import (
	"container/list"
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
//
// An entry is only ever used between peerTable.acquire and release, and is
// evicted when idle (see peerTable). Dropping an entry loses nothing the
// store does not hold, field by field:
//   - cur, prev, loaded: a fresh entry has loaded false and reloads both
//     sessions from the store on first use; every change to them is saved
//     in the transaction that made it, or the cache is invalidated.
//   - outboxFloor: zero in a fresh entry, so outbox reads start at the
//     beginning of the peer's queue: slower, never wrong. The only raise
//     (deliverDirect) is based on a read made on the same entry: the
//     deliverer holds its reference from the read to the raise, so the
//     entry it raises is the one the read (and any KickOutbox since) saw.
//   - floorReset: false in a fresh entry. It only stops a deliverer that
//     read before a KickOutbox from raising the floor; such a deliverer
//     holds the entry, so the entry cannot have been replaced meanwhile.
//   - sealOK: false in a fresh entry, the safe default: sends are queued
//     plain until the deliverer has encrypted what it finds (it is only set
//     true by encryptQueued, under the lock of the read that justifies it).
type peerState struct {
	mu     sync.Mutex
	loaded bool
	cur    *ratchet.Session
	prev   *ratchet.Session
	// size: bytes of the cached sessions as last loaded or saved (their
	// encoded size; in memory a session takes up to memPerStored times
	// that). Sessions only change under mu and are saved or invalidated
	// before it is released, so this tracks them.
	size int
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

	// Guarded by peerTable.mu, not mu.
	id   peer.ID
	refs int           // acquired and not yet released
	idle *list.Element // in peerTable.idle while refs is zero
	cost int           // weight counted in peerTable.idleBytes while idle
}

// Bounds of the session cache. An entry costs about entryOverhead bytes
// empty; a session with its ratchet's full MaxSkippedKeys (2,000) encodes
// to about 146 KB and takes about 360 KB in memory once decoded (measured),
// so memPerStored (4) over-counts it a little. Without the byte budget the
// count alone would allow 4,096 × two such sessions, about 3 GB.
const (
	defaultMaxPeerEntries = 4096
	defaultMaxIdleBytes   = 64 << 20
	entryOverhead         = 512
	memPerStored          = 4
)

// peerTable holds one peerState per peer in use and a cache of idle ones.
// acquire returns the live entry of a peer (making one if needed) and counts
// a reference; release gives it back. An entry with references is never
// removed, so two goroutines working on one peer at once always share one
// entry, and so its mutex. Idle entries (no reference: no one holds or
// waits for the mutex) are kept in least-recently-released order and the
// oldest are evicted while more than maxEntries entries exist, or while the
// idle ones weigh more than maxBytes (entryOverhead + memPerStored × the
// sessions' encoded size each). Evicting least recently used first keeps
// the contacts one talks to cached while a flood of fresh peer IDs (each
// one stream and envelope, before the stranger checks) only churns the
// oldest entries, and costs O(1) per acquire or release.
//
// So the table holds at most maxEntries entries plus those in use, and its
// idle entries at most maxBytes (estimated) plus one entry: 4,096 entries
// and 64 MiB by default. Entries in use are bounded by what uses them (a
// receive per DM stream, which the resource manager bounds, a deliverer
// per peer, one send group, sweeps), each at most two sessions with full
// skipped keys (about 0.7 MB).
type peerTable struct {
	mu         sync.Mutex
	m          map[peer.ID]*peerState
	idle       list.List // of *peerState, most recently released first
	idleBytes  int
	maxEntries int
	maxBytes   int
}

func newPeerTable() *peerTable {
	return &peerTable{m: map[peer.ID]*peerState{}, maxEntries: defaultMaxPeerEntries, maxBytes: defaultMaxIdleBytes}
}

// acquire returns p's entry and holds it until release: the caller may then
// lock its mutex, as often as it likes, until it calls release. Every
// acquire needs exactly one release, after the caller's last use of ps.
func (t *peerTable) acquire(p peer.ID) *peerState {
	t.mu.Lock()
	defer t.mu.Unlock()
	ps, ok := t.m[p]
	switch {
	case !ok:
		ps = &peerState{id: p}
		t.m[p] = ps
	case ps.refs == 0:
		t.idle.Remove(ps.idle)
		t.idleBytes -= ps.cost
		ps.idle, ps.cost = nil, 0
	}
	ps.refs++
	t.trim()
	return ps
}

// release gives back an entry acquire returned.
func (t *peerTable) release(ps *peerState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if ps.refs <= 0 || t.m[ps.id] != ps {
		panic("dm: release of a session cache entry not acquired")
	}
	ps.refs--
	if ps.refs > 0 {
		return
	}
	// No one holds or waits for ps.mu: its last user released it before
	// this, through t.mu, so reading size here does not race.
	ps.cost = entryOverhead + memPerStored*ps.size
	ps.idle = t.idle.PushFront(ps)
	t.idleBytes += ps.cost
	t.trim()
}

// trim evicts the least recently released idle entries while the table is
// over its bounds. Call with t.mu held.
func (t *peerTable) trim() {
	for (len(t.m) > t.maxEntries || t.idleBytes > t.maxBytes) && t.idle.Len() > 0 {
		ps := t.idle.Remove(t.idle.Back()).(*peerState)
		t.idleBytes -= ps.cost
		ps.idle, ps.cost = nil, 0
		delete(t.m, ps.id)
	}
}

// loadSlot returns the session in slot (nil if none) and its encoded size.
func loadSlot(tx *storage.Txn, p peer.ID, slot string) (*ratchet.Session, int, error) {
	b, err := tx.Session(p, slot)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, err
	}
	s, err := ratchet.UnmarshalSession(b)
	return s, len(b), err
}

// load fills the cache from the store. Call with ps.mu held.
func (ps *peerState) load(tx *storage.Txn, p peer.ID) error {
	if ps.loaded {
		return nil
	}
	cur, n1, err := loadSlot(tx, p, slotCurrent)
	if err != nil {
		return err
	}
	prev, n2, err := loadSlot(tx, p, slotPrevious)
	if err != nil {
		return err
	}
	ps.cur, ps.prev, ps.loaded, ps.size = cur, prev, true, n1+n2
	return nil
}

// save writes the sessions to the store. Call with ps.mu held.
func (ps *peerState) save(tx *storage.Txn, p peer.ID) error {
	size := 0
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
		size += len(b)
	}
	ps.size = size
	return nil
}

// invalidate drops the cache after a failed transaction, so the next use
// reloads what the store really holds. Call with ps.mu held.
func (ps *peerState) invalidate() {
	ps.cur, ps.prev, ps.loaded, ps.sealOK, ps.size = nil, nil, false, false, 0
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
	ps := d.peers.acquire(p)
	defer d.peers.release(ps)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.cur == nil {
		return keys.PublicKey{}, false, false
	}
	return ps.cur.Initiator(), ps.prev != nil, true
}
