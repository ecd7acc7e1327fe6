package rooms

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/internal/topic"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

const (
	// clockSkew is how far in the future a room message may be dated.
	clockSkew = 5 * time.Minute
	// SenderRate and SenderBurst bound each sender's messages in a room
	// (the host's are not bounded: it is the host's room). Over them a
	// message is dropped, not forwarded.
	SenderRate  = rate.Limit(20)
	SenderBurst = 50
	// HostForwardRate and HostForwardBurst bound, per forwarding peer, the
	// host's messages that reach us from a peer other than the host: a relay
	// must not be able to flood the room with the host's genuine messages.
	// They are above SenderRate because one forwarder may be the first to
	// hand us every line of a fast host (the benchmark's speaks 50 a second).
	HostForwardRate  = rate.Limit(100)
	HostForwardBurst = 200
	// readBatch is the most messages readRoom takes from the topic at once.
	readBatch = 256
	// firstSyncRetry is how soon a joined room asks again while its first
	// sync has not happened (no peer known yet, or none answered).
	firstSyncRetry = 100 * time.Millisecond
	// syncRounds bounds the syncs in a row when answers come back full.
	syncRounds = 5
)

// validator checks a room message before GossipSub delivers or forwards
// it: form, signature and room binding, date, whether we hold it already,
// the rates, and what the room's state allows (muted senders,
// moderator-only kinds). It hands the decoded message of each one it
// accepts to readRoom.
func (s *Service) validator(lr *liveRoom) pubsub.DecodingValidator {
	senders := pubsub.NewLimiter(SenderRate, SenderBurst, maxLimiters)
	forwarders := pubsub.NewLimiter(HostForwardRate, HostForwardBurst, maxLimiters)
	self := s.self()
	host := lr.desc.Host.PeerID()
	log := s.env.Log
	return func(_ context.Context, from peer.ID, data []byte) (pubsub.Result, any) {
		m, err := room.UnmarshalMessage(data)
		if err != nil {
			log.Debug("room: malformed message", "from", from, "err", err)
			return pubsub.Reject, nil
		}
		// Our own publishes were signed by publish a moment ago (and stored
		// already): checking them again would only delay the speaker's line.
		if from == self {
			return s.allowed(lr, m, from)
		}
		if err := m.Verify(lr.desc.Room); err != nil {
			log.Debug("room: message rejected", "from", from, "err", err)
			return pubsub.Reject, nil
		}
		now := time.Now()
		if m.Timestamp.After(now.Add(clockSkew)) {
			return pubsub.Reject, nil
		}
		// Over a rate, a message is dropped, not forwarded, but not
		// punished: an honest burst is later repaired by sync, and a flood
		// costs the flooder's neighbours one cheap check a message. The
		// host's messages are bounded per forwarder, before the store is
		// read, so a relay replaying them is cut off cheaply.
		isHost := m.Sender == lr.desc.Host
		if isHost && from != host && !forwarders.Allow(string(from)) {
			log.Debug("room: forwarder over its rate for the host's messages", "from", from)
			return pubsub.Ignore, nil
		}
		// A message we hold, or gave up, is a replay (GossipSub's seen
		// cache forgets a message after two minutes) or a reused number:
		// never worth forwarding again. Checked before the sender's rate,
		// so that replays do not spend the genuine sender's tokens.
		if held, err := s.held(lr, m); err != nil || held {
			log.Debug("room: message held already", "from", from, "sender", m.Sender, "seq", m.Seq, "err", err)
			return pubsub.Ignore, nil
		}
		if !isHost && !senders.Allow(string(m.Sender[:])) {
			log.Debug("room: sender over its rate", "sender", m.Sender)
			return pubsub.Ignore, nil
		}
		return s.allowed(lr, m, from)
	}
}

// held reports whether the store holds m (its sender and seq), or holds the
// sender's messages past it (see storage.Txn.RoomHeld).
func (s *Service) held(lr *liveRoom, m room.Message) (held bool, err error) {
	err = s.env.Store.View(func(tx *storage.Txn) error {
		held, err = tx.RoomHeld(storage.RoomID(lr.desc.Room), m.Sender.PeerID(), m.Seq)
		return err
	})
	return held, err
}

// allowed is the validator's last step: what the room's state allows.
func (s *Service) allowed(lr *liveRoom, m room.Message, from peer.ID) (pubsub.Result, any) {
	lr.mu.Lock()
	err := lr.state.Allowed(m, time.Now())
	lr.mu.Unlock()
	if err != nil {
		// Verdicts that depend on this node's state (mutes, roles) are
		// Ignore, not Reject, unless the peer handing us the message is
		// its author: scoring punishes the forwarder, who may know less
		// than we do.
		s.env.Log.Debug("room: message not allowed", "sender", m.Sender, "err", err)
		if from == m.Sender.PeerID() {
			return pubsub.Reject, nil
		}
		return pubsub.Ignore, nil
	}
	return pubsub.Accept, m
}

// readRoom applies the room's messages until the topic closes, taking what
// is waiting in one batch.
func (s *Service) readRoom(lr *liveRoom) {
	topic.ReadBatches(lr.topic.Messages(), readBatch, arrivalOf, func(batch []arrival) { s.accept(lr, batch) })
}

// arrivalOf is the arrival of a message from the topic, unless it is our
// own (stored when published).
func arrivalOf(msg pubsub.Message) (arrival, bool) {
	if msg.Local {
		return arrival{}, false
	}
	m, ok := msg.Decoded.(room.Message) // from validator
	if !ok {
		var err error
		if m, err = room.UnmarshalMessage(msg.Data); err != nil {
			return arrival{}, false // the validator let nothing malformed through
		}
	}
	return newArrival(m, msg.Data, msg.ID), true
}

// everyWhileJoined runs fn at once and then every interval, or after what
// fn returns when that is positive and sooner, in a goroutine of the room,
// until the service closes or the room is left.
func (s *Service) everyWhileJoined(lr *liveRoom, interval time.Duration, fn func() (sooner time.Duration)) {
	s.goRoom(lr, func() { topic.Every(lr.done, interval, nil, fn) }) // lr.done also ends when the service closes
}

// syncRoomSoon pulls the history the node lacks from the room's peers at
// once (a late joiner, or a node back from a restart) and then every
// SyncInterval (gap repair). Until a first sync has succeeded, for at most
// firstSyncWait, it asks again every firstSyncRetry: our first message is
// waiting for it.
func (s *Service) syncRoomSoon(lr *liveRoom) {
	joined := time.Now()
	s.everyWhileJoined(lr, s.cfg.SyncInterval, func() time.Duration {
		if s.syncRoomRound(lr) || time.Since(joined) >= firstSyncWait {
			lr.markSynced() // synced, or given up on: nothing waits for it any more
			return 0
		}
		select {
		case <-lr.synced:
			return 0
		default:
			return firstSyncRetry
		}
	})
}

// syncRoomRound syncs with one of the room's peers, again while the answers
// come back full, and reports whether it synced.
func (s *Service) syncRoomRound(lr *liveRoom) bool {
	peers := lr.topic.Peers()
	if len(peers) == 0 {
		peers = lr.helpers // whoever gave us the descriptor
	}
	if len(peers) == 0 {
		return false
	}
	p := peers[rand.IntN(len(peers))]
	// A full answer means more is waiting: ask again at once, a few
	// times, rather than a sync interval later.
	for range syncRounds {
		full, err := s.syncRoom(lr, p)
		if err != nil {
			s.env.Log.Debug("room: sync failed", "room", lr.desc.Room, "with", p, "err", err)
			return false
		}
		if !full {
			break
		}
	}
	return true
}
