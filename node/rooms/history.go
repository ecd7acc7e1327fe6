package rooms

import (
	"sync"
	"time"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/storage"
)

// A joined room's stored history is bounded on write, whatever the rate it
// arrives at: each room's count of messages and bytes (of their encodings)
// is kept in memory, seeded from the store when the room is first joined
// and raised as each transaction that stores its messages commits. The
// goroutine whose commit takes the room past its bound (the store writer,
// a sync, or our own message) prunes it at once, oldest messages first,
// back below the bound with some slack, so that pruning comes in batches
// rather than once a message. The hourly prune (pruneLoop) only adds the
// bound by age.
const (
	// DefaultHistoryCount is how many messages of a room we keep: a busy
	// room's last hours. Pruning starts at a tenth more (22,000).
	DefaultHistoryCount = 20_000
	// DefaultHistoryBytes bounds the bytes of a room's stored messages.
	// The count alone allows 20,000 × room.MaxMessageSize (4,352 bytes),
	// 83 MiB, with a tenth more before pruning starts: 91 MiB a room. Real
	// traffic is far smaller (a chat line, a presence or a tally is a few
	// hundred bytes, so 20,000 of them take 4 to 8 MiB) and never meets
	// this bound; a flood of the largest messages is held to 64 MiB, some
	// 15,000 of them, pruned back to 57.6 MiB.
	DefaultHistoryBytes = 64 << 20
)

// roomSize is a room's running totals, exact as long as every commit that
// adds or deletes its messages reports what it did.
type roomSize struct {
	// prune is held while the room is pruned: one prune at a time.
	prune sync.Mutex
	mu    sync.Mutex // guards count and bytes
	count int
	bytes int64
}

// growth is what a transaction added to rooms' histories, per room.
type growth map[room.ID]delta

// delta is a count of messages and their bytes.
type delta struct {
	count int
	bytes int64
}

// add notes rm as stored.
func (g growth) add(rm storage.RoomMessage) {
	d := g[room.ID(rm.Room)]
	g[room.ID(rm.Room)] = delta{count: d.count + 1, bytes: d.bytes + int64(len(rm.Data))}
}

// seedSize makes the running totals of room id from tx, unless the service
// has them already (a room joined again). It is called before the room
// gets any message to store.
func (s *Service) seedSize(tx *storage.Txn, id room.ID) error {
	s.mu.Lock()
	_, ok := s.sizes[id]
	s.mu.Unlock()
	if ok {
		return nil
	}
	n, b, err := tx.RoomMessageTotals(storage.RoomID(id))
	if err != nil {
		return err
	}
	s.mu.Lock()
	if _, ok := s.sizes[id]; !ok {
		s.sizes[id] = &roomSize{count: n, bytes: b}
	}
	s.mu.Unlock()
	return nil
}

// size returns room id's running totals, or nil if it was never joined.
func (s *Service) size(id room.ID) *roomSize {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sizes[id]
}

// grew counts what a committed transaction stored and prunes, in this
// goroutine, each room it took past its bound.
func (s *Service) grew(g growth) {
	for id, d := range g {
		rs := s.size(id)
		if rs == nil {
			continue
		}
		rs.mu.Lock()
		rs.count += d.count
		rs.bytes += d.bytes
		rs.mu.Unlock()
		s.pruneIfOver(id, rs)
	}
}

// over reports whether rs is past the bound.
func (s *Service) over(rs *roomSize) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.count > s.cfg.HistoryCount+s.cfg.HistoryCount/10 || rs.bytes > s.cfg.HistoryBytes
}

// pruneIfOver prunes room id while it is past its bound, unless another
// goroutine is pruning it: that one checks again once done, and sees what
// made the room pass the bound, since it was counted before the TryLock
// failed.
func (s *Service) pruneIfOver(id room.ID, rs *roomSize) {
	for s.over(rs) {
		if !rs.prune.TryLock() {
			return
		}
		err := s.pruneHistory(id, rs, time.Time{})
		rs.prune.Unlock()
		if err != nil {
			return // the next commit tries again
		}
	}
}

// pruneHistory deletes room id's oldest messages down to HistoryCount and
// nine tenths of HistoryBytes, and every one sent before cutoff (zero:
// none). rs.prune must be held.
func (s *Service) pruneHistory(id room.ID, rs *roomSize, cutoff time.Time) error {
	rs.mu.Lock()
	count, bytes := rs.count, rs.bytes
	rs.mu.Unlock()
	n, b, err := s.env.Store.DropOldestRoomMessages(storage.RoomID(id),
		count-s.cfg.HistoryCount, bytes-(s.cfg.HistoryBytes-s.cfg.HistoryBytes/10), cutoff)
	rs.mu.Lock()
	rs.count -= n
	rs.bytes -= b
	count, bytes = rs.count, rs.bytes
	rs.mu.Unlock()
	if err != nil {
		s.env.Log.Warn("room: history not pruned", "room", id, "err", err)
		return err
	}
	if n > 0 {
		s.env.Log.Debug("room: history pruned", "room", id, "deleted", n, "deleted_bytes", b, "left", count, "left_bytes", bytes)
	}
	return nil
}
