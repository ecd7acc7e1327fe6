package rooms

import (
	"errors"
	"fmt"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/storage"
)

// The ballot writer. A host stores the ballots it takes before it answers
// that it took them. A transaction per ballot costs a fsync each, and
// ballots taken at once conflict on the room's ballot count, so that a
// burst of them was mostly refused after Badger's retries ran out. One
// goroutine stores them instead, every ballot waiting in one transaction,
// and answers each when its batch is committed.
const (
	// ballotQueueSize bounds the ballots waiting for the writer, all rooms
	// together; past it a ballot is refused as errBallotBusy and its voter
	// publishes instead.
	ballotQueueSize = 1024
	// ballotBatch is the most ballots one transaction stores.
	ballotBatch = 256
)

// ballotWrite is a checked ballot waiting to be stored; done gets the
// outcome (capacity 1: the writer never waits on it).
type ballotWrite struct {
	lr   *liveRoom
	b    room.Ballot
	data []byte
	done chan error
}

// storeBallot has the writer store and apply a checked ballot and waits
// for the outcome: nil when it is stored and counted, or held already.
func (s *Service) storeBallot(lr *liveRoom, b room.Ballot, data []byte) error {
	w := ballotWrite{lr: lr, b: b, data: data, done: make(chan error, 1)}
	select {
	case s.ballotWrites <- w:
	default:
		return errBallotBusy
	}
	select {
	case err := <-w.done:
		return err
	case <-s.ctx.Done():
		return fmt.Errorf("%w: %w", errBallotStore, errs.ErrClosed)
	}
}

// runBallotWriter stores queued ballots until the service closes. It takes
// whatever is waiting, up to ballotBatch, into one transaction; ballots
// left in the queue at close are not answered, and their senders give up
// with the service's context.
func (s *Service) runBallotWriter() {
	for {
		var first ballotWrite
		select {
		case <-s.ctx.Done():
			return
		case first = <-s.ballotWrites:
		}
		batch := []ballotWrite{first}
	gather:
		for len(batch) < ballotBatch {
			select {
			case w := <-s.ballotWrites:
				batch = append(batch, w)
			default:
				break gather
			}
		}
		s.storeBallots(batch)
	}
}

// storeBallots stores a batch of ballots in one transaction, applies those
// that are new to their rooms' states and answers each. A ballot the store
// refuses on its own (a full room or voter, a bad field) is answered with
// why, not the batch.
func (s *Service) storeBallots(batch []ballotWrite) {
	added := make([]bool, len(batch))
	refused := make([]error, len(batch))
	err := s.env.Store.Update(func(tx *storage.Txn) error {
		for i, w := range batch {
			b := w.b
			ok, err := tx.PutRoomBallot(storage.RoomBallot{Room: storage.RoomID(b.Room), Voter: b.Voter.PeerID(),
				Target: b.Target, Emoji: b.Emoji, Time: b.Time, Data: w.data}, storage.BallotLimits{Room: s.cfg.MaxBallots, Voter: maxVoterBallots})
			added[i], refused[i] = ok, nil
			switch {
			case errors.Is(err, storage.ErrFull):
				refused[i] = fmt.Errorf("%w: %w", errBallotFull, err)
			case errors.Is(err, storage.ErrInvalid):
				refused[i] = fmt.Errorf("bad ballot: %w", err)
			case err != nil:
				return err
			}
		}
		return nil
	})
	if err != nil {
		s.env.Log.Warn("room: ballots not stored", "count", len(batch), "err", err)
	}
	for i, w := range batch {
		switch {
		case err != nil:
			w.done <- fmt.Errorf("%w: %w", errBallotStore, err)
		case refused[i] != nil || !added[i]: // refused, or held and counted already
			w.done <- refused[i]
		default:
			w.done <- s.applyBallot(w.lr, w.b)
		}
	}
}

// applyBallot counts a stored ballot in lr's state and marks its target
// for the next tally.
func (s *Service) applyBallot(lr *liveRoom, b room.Ballot) error {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	if err := lr.state.ApplyBallot(b); err != nil {
		return err
	}
	lr.dirty[tallyKey{b.Target, b.Emoji}] = struct{}{}
	return nil
}
