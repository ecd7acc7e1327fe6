package rooms

import (
	"errors"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// Our own upvotes and reactions, so that the room shows which are ours. A
// vote we published is in the room's state under our key; one handed to
// the host as a ballot (a listener of a large room) is known to the room
// only as a tally's count, so we keep a copy of it in our store, where a
// host keeps the ballots it takes. A listener's store holds no one
// else's ballots (handleBallot takes them only for a room we host).

// myVote names one of our votes: its target and emoji (empty: an upvote).
type myVote struct {
	target room.MessageID
	emoji  string
}

// keepMyBallot stores b, a ballot the host took from us. Failing to keep
// it loses nothing but the mark of our vote, so it is only logged.
func (s *Service) keepMyBallot(b room.Ballot) {
	data, err := b.MarshalBinary()
	if err == nil {
		err = s.env.Store.Update(func(tx *storage.Txn) error {
			_, err := tx.PutRoomBallot(storage.RoomBallot{Room: storage.RoomID(b.Room), Voter: s.env.Identity.Signing().Public().PeerID(),
				Target: b.Target, Emoji: b.Emoji, Time: b.Time, Data: data}, storage.BallotLimits{Room: s.cfg.MaxBallots, Voter: maxVoterBallots})
			return err
		})
	}
	if err != nil && !errors.Is(err, storage.ErrFull) {
		s.env.Log.Debug("room: our ballot not kept", "room", b.Room, "err", err)
	}
}

// myBallots returns the ballots we handed to the host of room id: none if
// we host it (a host publishes its votes).
func (s *Service) myBallots(id room.ID) (map[myVote]bool, error) {
	lr, err := s.joined(id)
	if err != nil {
		return nil, err
	}
	if s.hosting(lr) {
		return nil, nil
	}
	me := s.env.Identity.Signing().Public().PeerID()
	mine := map[myVote]bool{}
	err = s.env.Store.View(func(tx *storage.Txn) error {
		return tx.EachRoomBallot(storage.RoomID(id), func(b storage.RoomBallot) error {
			if b.Voter == me {
				mine[myVote{b.Target, b.Emoji}] = true
			}
			return nil
		})
	})
	return mine, err
}

// votedBy tells whether a vote is ours: a ballot in mine, or a vote of
// ours in lr's state. Call with lr.mu held.
func (s *Service) votedBy(lr *liveRoom, mine map[myVote]bool) func(target room.MessageID, emoji string) bool {
	me := s.env.Identity.Signing().Public()
	return func(target room.MessageID, emoji string) bool {
		return mine[myVote{target, emoji}] || lr.state.VotedBy(target, emoji, me)
	}
}

// myReactions returns the emojis of rs that are ours on target.
func myReactions(target room.MessageID, rs []roomstate.Reaction, voted func(room.MessageID, string) bool) []string {
	var out []string
	for _, r := range rs {
		if voted(target, r.Emoji) {
			out = append(out, r.Emoji)
		}
	}
	return out
}
