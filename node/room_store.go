package node

import (
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/internal/dmpb"
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
	// roomWriteQueue bounds the messages waiting for the store writer; a
	// reader that finds it full waits (see roomWrites).
	roomWriteQueue = 4096
	// roomWriteBatch is the most messages one transaction stores; a full
	// batch is stored without waiting out the linger.
	roomWriteBatch = 512
	// roomWriteLinger is how long the writer gathers a batch after its first
	// message.
	roomWriteLinger = 100 * time.Millisecond
	// roomReadBatch is the most messages readRoom takes from the topic at
	// once.
	roomReadBatch = 256
)

// roomArrival is a verified message of a room, its ID and its encoding.
type roomArrival struct {
	m    room.Message
	id   room.MessageID
	data []byte
}

// newRoomArrival makes an arrival of m, encoded as data. pubsubID is the
// ID GossipSub delivered it under (messageID: the room message ID itself),
// which spares hashing the message again; empty, the ID is computed.
func newRoomArrival(m room.Message, data []byte, pubsubID string) roomArrival {
	a := roomArrival{m: m, data: data}
	if len(pubsubID) == len(a.id) {
		copy(a.id[:], pubsubID)
	} else {
		a.id = m.ID()
	}
	return a
}

// roomRecord is m as the store keeps it; sender is m.Sender's peer ID.
func roomRecord(m room.Message, id room.MessageID, sender peer.ID, data []byte, received time.Time) storage.RoomMessage {
	return storage.RoomMessage{Room: storage.RoomID(m.Room), ID: id, Sender: sender, Seq: m.Seq,
		Sent: m.Timestamp, Received: received, Data: data}
}

// acceptRoomMessages applies verified messages of lr to its state, announces
// the new ones and queues them for the store writer. It drops them from the
// queue only when the node is closing.
func (n *Node) acceptRoomMessages(lr *liveRoom, batch []roomArrival) {
	// On close, the next start's sync fetches what was not stored.
	_ = n.rooms.writes.add(n.ctx, n.applyRoomMessages(lr, batch))
}

// applyRoomMessages applies verified messages of lr to its state and
// announces the new ones, which it returns for the store. Each is announced
// before its store record is made: a listener's latency ends at the event.
func (n *Node) applyRoomMessages(lr *liveRoom, batch []roomArrival) []storage.RoomMessage {
	type fresh struct {
		a       roomArrival
		applied bool
	}
	var news []fresh
	lr.mu.Lock()
	for _, a := range batch {
		if lr.state.Has(a.id) {
			continue
		}
		err := lr.state.ApplyID(a.m, a.id)
		if err != nil {
			n.log.Debug("room: message not applied", "room", a.m.Room, "err", err)
		}
		news = append(news, fresh{a, err == nil})
	}
	lr.mu.Unlock()
	now := time.Now().UTC()
	recs := make([]storage.RoomMessage, 0, len(news))
	for _, f := range news {
		sender := f.a.m.Sender.PeerID()
		if f.applied {
			n.bus.Publish(Event{Type: EventRoomMessage, Peer: sender, Room: &RoomEvent{Room: lr.desc.Room, ID: f.a.id, Kind: f.a.m.Kind}})
		}
		recs = append(recs, roomRecord(f.a.m, f.a.id, sender, f.a.data, now))
	}
	return recs
}

// storeOwnRoomMessage stores a message of ours (ID id, encoded as data)
// that we are publishing, then applies and announces it.
func (n *Node) storeOwnRoomMessage(lr *liveRoom, m room.Message, id room.MessageID, data []byte) error {
	if err := n.store.Update(func(tx *storage.Txn) error {
		_, err := tx.PutRoomMessage(roomRecord(m, id, n.ID(), data, time.Now().UTC()))
		return err
	}); err != nil {
		return err
	}
	lr.mu.Lock()
	err := lr.state.ApplyID(m, id)
	lr.mu.Unlock()
	if err != nil {
		return err
	}
	n.bus.Publish(Event{Type: EventRoomMessage, Peer: n.ID(), Room: &RoomEvent{Room: m.Room, ID: id, Kind: m.Kind}})
	return nil
}

// runRoomWriter stores queued room messages until the node closes, and
// then stores what is left in the queue. It waits roomWriteLinger after a
// batch's first message, or until the batch is full, and stores the batch
// in one transaction.
func (n *Node) runRoomWriter() {
	q := n.rooms.writes
	linger := time.NewTimer(roomWriteLinger)
	linger.Stop()
	for {
		select {
		case <-n.ctx.Done():
			n.storeRoomBatch(q.take())
			return
		case <-q.wake:
		}
		if !q.full() {
			linger.Reset(roomWriteLinger)
			select {
			case <-linger.C:
			case <-q.wake: // a full batch
			case <-n.ctx.Done():
			}
			linger.Stop()
		}
		n.storeRoomBatch(q.take())
	}
}

// storeRoomBatch stores room messages, roomWriteBatch to a transaction. A
// message the store refuses on its own (a sender that reused a sequence
// number) is skipped, not the batch.
func (n *Node) storeRoomBatch(msgs []storage.RoomMessage) {
	for len(msgs) > 0 {
		batch := msgs[:min(len(msgs), roomWriteBatch)]
		msgs = msgs[len(batch):]
		if err := n.store.Update(func(tx *storage.Txn) error { return n.putRoomMessages(tx, batch) }); err != nil {
			// Not raised high-water marks make the next sync fetch them again.
			n.log.Warn("room: messages not stored", "count", len(batch), "err", err)
		}
	}
}

// putRoomMessages stores room messages in tx, skipping those the store
// refuses on their own.
func (n *Node) putRoomMessages(tx *storage.Txn, batch []storage.RoomMessage) error {
	for _, rm := range batch {
		if _, err := tx.PutRoomMessage(rm); err != nil {
			if errors.Is(err, storage.ErrMismatch) || errors.Is(err, storage.ErrInvalid) {
				n.log.Debug("room: message not stored", "room", room.ID(rm.Room), "sender", rm.Sender, "err", err)
				continue
			}
			return err
		}
	}
	return nil
}

// roomKeep bounds the messages a node keeps of one room; RoomHistoryAge
// bounds their age.
const roomKeep = 20_000

// roomPruneInterval is how often a joined room's history is pruned.
const roomPruneInterval = time.Hour

// pruneLoop bounds a joined room's stored history by count and age, at once
// and then every roomPruneInterval, until the room is left.
func (n *Node) pruneLoop(lr *liveRoom) {
	n.everyWhileJoined(lr, roomPruneInterval, func() time.Duration {
		cutoff := time.Now().Add(-n.cfg.RoomHistoryAge)
		deleted, err := n.store.PruneRoomMessages(storage.RoomID(lr.desc.Room), roomKeep, cutoff)
		if err != nil {
			n.log.Warn("room: history not pruned", "room", lr.desc.Room, "err", err)
			return 0
		}
		if deleted > 0 {
			n.log.Debug("room: history pruned", "room", lr.desc.Room, "deleted", deleted)
		}
		return 0
	})
}

// lateJoinerScan bounds how many stored messages one late-joiner answer
// looks at.
const lateJoinerScan = 20 * maxRoomHistory

// lateJoinerHistory returns up to limit of a room's newest messages sent
// after cutoff, newest first, for a peer that has nothing yet. Presence
// messages that have expired tell a newcomer nothing and, a member sending
// one a minute, would crowd the chat out: they are left out.
func lateJoinerHistory(tx *storage.Txn, id storage.RoomID, limit int, cutoff, now time.Time) ([]storage.RoomMessage, error) {
	var out []storage.RoomMessage
	before := time.Time{}
	seen := map[room.MessageID]bool{}
	for scanned := 0; scanned < lateJoinerScan && len(out) < limit; {
		page, err := tx.RoomMessages(id, maxRoomHistory, before)
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
			if staleForNewcomer(rm, now) {
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
func historyFloors(ours map[peer.ID]uint64, sent []storage.RoomMessage) []*dmpb.HighWater {
	oldest := map[peer.ID]uint64{}
	for _, rm := range sent {
		if s, ok := oldest[rm.Sender]; !ok || rm.Seq < s {
			oldest[rm.Sender] = rm.Seq
		}
	}
	var floors []*dmpb.HighWater
	for sender, hw := range ours {
		floor := hw
		if s, ok := oldest[sender]; ok {
			floor = min(hw, s-1)
		}
		pk, err := senderKey(sender)
		if floor == 0 || err != nil {
			continue
		}
		floors = append(floors, &dmpb.HighWater{Sender: pk, Seq: floor})
	}
	return floors
}

// staleForNewcomer reports whether rm is an expired presence message.
func staleForNewcomer(rm storage.RoomMessage, now time.Time) bool {
	m, err := room.UnmarshalMessage(rm.Data)
	if err != nil {
		return true
	}
	return m.Kind == room.KindPresence && m.Timestamp.Add(presenceTTL).Before(now)
}
