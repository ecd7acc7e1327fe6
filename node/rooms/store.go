package rooms

import (
	"context"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/rooms/internal/roomspb"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// Room messages from others are applied to the room's state, and announced,
// as soon as they arrive; the store gets them in batches a moment later. A
// room's history is public and held by every member, so the few messages a
// crash loses from the last batch come back through sync, while a
// transaction per message would cost every member of a busy room a commit
// per line. Our own messages are different: each is stored before it is
// published, since our sequence numbers must have no holes.
const (
	// writeQueueSize bounds the messages waiting for the store writer; a
	// reader that finds it full waits (see writeQueue).
	writeQueueSize = 4096
	// writeBatch is the most messages one transaction stores; a full batch
	// is stored without waiting out the linger.
	writeBatch = 512
	// writeLinger is how long the writer gathers a batch after its first
	// message.
	writeLinger = 100 * time.Millisecond
	// pruneInterval is how often a joined room's history is pruned by
	// age (HistoryAge); its count and bytes are bounded on write (see
	// history.go).
	pruneInterval = time.Hour
	// lateJoinerScan bounds how many stored messages one late-joiner
	// answer looks at.
	lateJoinerScan = 20 * MaxHistory
)

// arrival is a verified message of a room, its ID and its encoding.
type arrival struct {
	m    room.Message
	id   room.MessageID
	data []byte
}

// newArrival makes an arrival of m, encoded as data. pubsubID is the ID
// GossipSub delivered it under (MessageID: the room message ID itself),
// which spares hashing the message again; empty, the ID is computed.
func newArrival(m room.Message, data []byte, pubsubID string) arrival {
	a := arrival{m: m, data: data}
	if len(pubsubID) == len(a.id) {
		copy(a.id[:], pubsubID)
	} else {
		a.id = m.ID()
	}
	return a
}

// record is m as the store keeps it; sender is m.Sender's peer ID.
func record(m room.Message, id room.MessageID, sender peer.ID, data []byte, received time.Time) storage.RoomMessage {
	return storage.RoomMessage{Room: storage.RoomID(m.Room), ID: id, Sender: sender, Seq: m.Seq,
		Sent: m.Timestamp, Received: received, Data: data}
}

// accept applies verified messages of lr to its state, announces the new
// ones and queues them for the store writer, waiting for room in the queue
// even while the service closes: the writer runs until every caller has
// returned (see Close), so what was announced is stored, and a restart does
// not announce it again when sync brings it back.
func (s *Service) accept(lr *liveRoom, batch []arrival) {
	_ = s.writes.add(context.WithoutCancel(s.ctx), s.apply(lr, batch))
}

// apply applies verified messages of lr to its state and announces the new
// ones, which it returns for the store. Each is announced before its store
// record is made: a listener's latency ends at the event.
func (s *Service) apply(lr *liveRoom, batch []arrival) []storage.RoomMessage {
	type fresh struct {
		a       arrival
		applied bool
	}
	var news []fresh
	hosting := s.hosting(lr)
	lr.mu.Lock()
	for _, a := range batch {
		if lr.state.Has(a.id) {
			continue
		}
		err := lr.state.ApplyID(a.m, a.id)
		if err != nil {
			s.env.Log.Debug("room: message not applied", "room", a.m.Room, "err", err)
		} else if hosting {
			s.noteVote(lr, a.m)
		}
		news = append(news, fresh{a, err == nil})
	}
	lr.mu.Unlock()
	now := time.Now().UTC()
	recs := make([]storage.RoomMessage, 0, len(news))
	for _, f := range news {
		sender := f.a.m.Sender.PeerID()
		if f.applied {
			s.env.Bus.Publish(event.Event{Type: event.RoomMessage, Peer: sender, Room: &event.Room{Room: lr.desc.Room, ID: f.a.id, Kind: f.a.m.Kind}})
		}
		recs = append(recs, record(f.a.m, f.a.id, sender, f.a.data, now))
	}
	return recs
}

// storeOwn stores a message of ours (ID id, encoded as data) that we are
// publishing, then applies and announces it.
func (s *Service) storeOwn(lr *liveRoom, m room.Message, id room.MessageID, data []byte) error {
	self := s.self()
	rec := record(m, id, self, data, time.Now().UTC())
	var added bool
	if err := s.env.Store.Update(func(tx *storage.Txn) error {
		var err error
		added, err = tx.PutRoomMessage(rec)
		return err
	}); err != nil {
		return err
	}
	if added {
		g := growth{}
		g.add(rec)
		s.grew(g)
	}
	lr.mu.Lock()
	err := lr.state.ApplyID(m, id)
	if err == nil && s.hosting(lr) {
		s.noteVote(lr, m) // our own vote in a room we tally
	}
	lr.mu.Unlock()
	if err != nil {
		return err
	}
	s.env.Bus.Publish(event.Event{Type: event.RoomMessage, Peer: self, Room: &event.Room{Room: m.Room, ID: id, Kind: m.Kind}})
	return nil
}

// runWriter stores queued room messages until stopWriter is closed, and
// then stores what is left in the queue. It waits writeLinger after a batch's
// first message, or until the batch is full, and stores the batch in one
// transaction.
func (s *Service) runWriter() {
	q := s.writes
	linger := time.NewTimer(writeLinger)
	linger.Stop()
	for {
		select {
		case <-s.stopWriter:
			s.storeBatch(q.take())
			return
		case <-q.wake:
		}
		if !q.full() {
			linger.Reset(writeLinger)
			select {
			case <-linger.C:
			case <-q.wake: // a full batch
			case <-s.stopWriter:
			}
			linger.Stop()
		}
		s.storeBatch(q.take())
	}
}

// storeBatch stores room messages, writeBatch to a transaction. A message
// the store refuses on its own (a sender that reused a sequence number) is
// skipped, not the batch.
func (s *Service) storeBatch(msgs []storage.RoomMessage) {
	for len(msgs) > 0 {
		batch := msgs[:min(len(msgs), writeBatch)]
		msgs = msgs[len(batch):]
		var g growth
		if err := s.env.Store.Update(func(tx *storage.Txn) error {
			g = growth{} // Update may run this more than once
			return s.putMessages(tx, batch, g)
		}); err != nil {
			// Not raised high-water marks make the next sync fetch them again.
			s.env.Log.Warn("room: messages not stored", "count", len(batch), "err", err)
			continue
		}
		s.grew(g) // prunes here, in the writer, a room the batch took past its bound
		if f := s.batchStored.Load(); f != nil {
			(*f)(batch)
		}
	}
}

// putMessages stores room messages in tx, skipping those the store refuses
// on their own, and notes in g those it added.
func (s *Service) putMessages(tx *storage.Txn, batch []storage.RoomMessage, g growth) error {
	for _, rm := range batch {
		added, err := tx.PutRoomMessage(rm)
		if err != nil {
			if errors.Is(err, storage.ErrMismatch) || errors.Is(err, storage.ErrInvalid) {
				s.env.Log.Debug("room: message not stored", "room", room.ID(rm.Room), "sender", rm.Sender, "err", err)
				continue
			}
			return err
		}
		if added {
			g.add(rm)
		}
	}
	return nil
}

// pruneLoop bounds a joined room's stored history by age, and the ballots
// we took as its host, at once and then every pruneInterval, until the
// room is left. Its count and bytes are bounded as messages are stored
// (see history.go); this prune brings them back to their targets too.
func (s *Service) pruneLoop(lr *liveRoom) {
	s.everyWhileJoined(lr, pruneInterval, func() time.Duration {
		cutoff := time.Now().Add(-s.cfg.HistoryAge)
		if rs := s.size(lr.desc.Room); rs != nil {
			rs.prune.Lock()
			err := s.pruneHistory(lr.desc.Room, rs, cutoff)
			rs.prune.Unlock()
			if err == nil {
				s.pruneIfOver(lr.desc.Room, rs) // what came in meanwhile
			}
		}
		if !s.hosting(lr) {
			return 0
		}
		deleted, err := s.env.Store.PruneRoomBallots(storage.RoomID(lr.desc.Room), cutoff)
		if err != nil {
			s.env.Log.Warn("room: ballots not pruned", "room", lr.desc.Room, "err", err)
		} else if deleted > 0 {
			s.env.Log.Debug("room: ballots pruned", "room", lr.desc.Room, "deleted", deleted)
		}
		return 0
	})
}

// lateJoinerHistory returns up to limit of a room's newest messages sent
// after cutoff, newest first, for a peer that has nothing yet. Presence
// messages that have expired tell a newcomer nothing and, a member sending
// one a minute, would crowd the chat out: they are left out. So are the
// host's tallies that the newer ones sent supersede (see newcomerFilter).
// What is left out above a sender's oldest message sent is not given up:
// the newcomer's gap repair fetches it later, oldest first; what is older
// than that, the floors give up (historyFloors), as any older history.
func lateJoinerHistory(tx *storage.Txn, id storage.RoomID, host keys.PublicKey, limit int, cutoff, now time.Time) ([]storage.RoomMessage, error) {
	stale := newNewcomerFilter(host, now)
	var out []storage.RoomMessage
	before := time.Time{}
	seen := map[room.MessageID]bool{}
	for scanned := 0; scanned < lateJoinerScan && len(out) < limit; {
		page, err := tx.RoomMessages(id, MaxHistory, before)
		if err != nil {
			return nil, err
		}
		fresh := 0
		for _, rm := range page {
			if seen[rm.ID] {
				continue
			}
			seen[rm.ID] = true
			fresh++
			if rm.Sent.Before(cutoff) {
				return out, nil // newest first: the rest is older still
			}
			if stale.skip(rm) {
				continue
			}
			out = append(out, rm)
			if len(out) == limit {
				return out, nil
			}
		}
		if fresh == 0 {
			return out, nil // the start of the history
		}
		scanned += fresh
		// Signed times have millisecond precision: page from the oldest
		// returned time, inclusive, and skip what was already seen.
		before = page[len(page)-1].Sent.Add(time.Nanosecond)
	}
	return out, nil
}

// historyFloors tells a newcomer, per sender, up to which seq it should give
// history up, given ours, our high-water marks, and sent, the history sent:
// just below the sender's oldest message sent, or everything we hold of a
// sender none of whose messages were sent.
func historyFloors(ours map[peer.ID]uint64, sent []storage.RoomMessage) []*roomspb.HighWater {
	oldest := map[peer.ID]uint64{}
	for _, rm := range sent {
		if s, ok := oldest[rm.Sender]; !ok || rm.Seq < s {
			oldest[rm.Sender] = rm.Seq
		}
	}
	var floors []*roomspb.HighWater
	for sender, hw := range ours {
		floor := hw
		if s, ok := oldest[sender]; ok {
			floor = min(hw, s-1)
		}
		pk, err := senderKey(sender)
		if floor == 0 || err != nil {
			continue
		}
		floors = append(floors, &roomspb.HighWater{Sender: pk, Seq: floor})
	}
	return floors
}

// newcomerFilter tells, over a room's history walked newest first, what
// a newcomer's first answer can leave out: expired presence, and the
// host's tallies that tell it nothing the newer ones sent do not (a tally
// counts for the highest of its counts, and a census for the latest, for
// roomstate.CensusFresh). In a large room the host tallies up to once a
// second: kept whole, tallies would crowd the chat out of the answer.
type newcomerFilter struct {
	host keys.PublicKey
	now  time.Time
	// best holds the highest count of each target and emoji in the
	// host's tallies sent (at most maxNewcomerCounts; past it, counts of
	// others are kept); census is set once the latest census is sent.
	best   map[tallyKey]uint32
	census bool
}

// maxNewcomerCounts bounds what a newcomerFilter remembers.
const maxNewcomerCounts = 4096

func newNewcomerFilter(host keys.PublicKey, now time.Time) *newcomerFilter {
	return &newcomerFilter{host: host, now: now, best: map[tallyKey]uint32{}}
}

// skip reports whether rm, the next older message, can be left out.
func (f *newcomerFilter) skip(rm storage.RoomMessage) bool {
	m, err := room.UnmarshalMessage(rm.Data)
	if err != nil {
		return true
	}
	switch m.Kind {
	case room.KindPresence:
		p, err := roomstate.DecodePresence(m.Body)
		return err != nil || m.Timestamp.Add(p.TTL).Before(f.now)
	case room.KindTally:
		if m.Sender != f.host {
			return false // a moderator's: whether it counts is the newcomer's to judge
		}
		tb, err := roomstate.DecodeTally(m.Body)
		if err != nil {
			return true
		}
		needed := false
		if tb.Present > 0 && !f.census {
			f.census = true
			needed = !m.Timestamp.Before(f.now.Add(-roomstate.CensusFresh))
		}
		for _, c := range tb.Counts {
			k := tallyKey{c.Target, c.Emoji}
			best, known := f.best[k]
			switch {
			case known && c.Count <= best:
			case known || len(f.best) < maxNewcomerCounts:
				f.best[k] = c.Count
				needed = true
			default:
				needed = true
			}
		}
		return !needed
	}
	return false
}
