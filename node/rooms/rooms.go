package rooms

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/input"
	"github.com/backchannel/backchannel/node/internal/topic"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/storage"
)

// TopicPrefix starts every live room's GossipSub topic.
const TopicPrefix = "/backchannel/room/"

// Topic is the GossipSub topic of a room.
func Topic(id room.ID) string { return TopicPrefix + id.String() }

// MessageID is the GossipSub message ID of data on a room's topic: the ID
// of the signed room message it encodes, which covers the signature, so a
// relay cannot make a corrupted copy that shadows the real one.
func MessageID(data []byte) string {
	id := room.WireMessageID(data)
	return string(id[:])
}

// Info describes a room to the user.
type Info struct {
	ID          room.ID
	Name        string
	Description string
	Host        peer.ID
	Start       time.Time
	Joined      bool
	Listeners   int
}

// CreateRoom makes a room hosted by this node and joins it, with the name
// as (nil: the profile name).
func (s *Service) CreateRoom(ctx context.Context, name, description string, start time.Time, as *NameChoice) (Info, error) {
	if err := input.Start(start, time.Now()); err != nil {
		return Info{}, errs.Say(errs.ErrInvalidRoom, err, nil)
	}
	if as != nil {
		if err := checkChoice(*as); err != nil {
			return Info{}, err
		}
	}
	d := room.Descriptor{Nonce: room.NewNonce(), Name: name, Description: description, Start: start, Created: time.Now()}
	if err := d.Sign(s.env.Identity.Signing()); err != nil {
		return Info{}, fmt.Errorf("%w: %w", errs.ErrInvalidRoom, err)
	}
	chosen, err := s.saveRoom(d, as)
	if err != nil {
		return Info{}, err
	}
	if err := s.joinLive(ctx, d, chosen); err != nil {
		return Info{}, err
	}
	return s.roomInfo(d.Room)
}

// JoinRoom joins a room by its ID or its name: it asks a peer that is in it
// (found among the connected peers, or through the DHT) for the descriptor
// and the recent history, then subscribes to the room's topic. We take the
// name as in the room; nil keeps the choice made when we were last in it,
// else the profile name.
func (s *Service) JoinRoom(ctx context.Context, ref string, as *NameChoice) (Info, error) {
	if as != nil {
		if err := checkChoice(*as); err != nil {
			return Info{}, err
		}
	}
	id, err := room.ParseID(ref)
	if err != nil { // not an ID: a name
		found, err := s.DiscoverRooms(ctx, ref)
		if err != nil {
			return Info{}, err
		}
		if len(found) > 1 {
			return Info{}, fmt.Errorf("%w: %d rooms are named %q: join one by its ID", errs.ErrInvalidRoom, len(found), ref)
		}
		id = found[0].ID
	}
	if _, ok := s.get(id); ok {
		if as != nil {
			if err := s.RoomSetName(ctx, id, *as); err != nil {
				return Info{}, err
			}
		}
		return s.roomInfo(id)
	}
	d, err := s.fetchDescriptor(ctx, id)
	if err != nil {
		return Info{}, err
	}
	chosen, err := s.saveRoom(d, as)
	if err != nil {
		return Info{}, err
	}
	if err := s.joinLive(ctx, d, chosen); err != nil {
		return Info{}, err
	}
	return s.roomInfo(id)
}

// saveRoom stores d as a joined room, with our name in it as (nil: as
// chosen before, else the profile name), and returns the choice.
func (s *Service) saveRoom(d room.Descriptor, as *NameChoice) (NameChoice, error) {
	enc, err := d.MarshalBinary()
	if err != nil {
		return NameChoice{}, err
	}
	now := time.Now().UTC()
	var chosen NameChoice
	err = s.env.Store.Update(func(tx *storage.Txn) error {
		r := storage.Room{ID: storage.RoomID(d.Room), Descriptor: enc, Name: d.Name, Joined: true, JoinedAt: now, Updated: now}
		if as != nil {
			r.HasOwnName, r.OwnName = !as.UseProfile, as.Name
		} else if old, err := tx.Room(r.ID); err == nil {
			r.HasOwnName, r.OwnName = old.HasOwnName, old.OwnName
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		chosen = storedChoice(r)
		return tx.PutRoom(r)
	})
	return chosen, err
}

// storedChoice is the name choice a stored room keeps.
func storedChoice(r storage.Room) NameChoice {
	if r.HasOwnName {
		return NameChoice{Name: r.OwnName}
	}
	return NameChoice{UseProfile: true}
}

// joinLive subscribes to a room's topic, replays its stored history into the
// room state, and asks the room's peers for what it lacks. We take the name
// as in it.
func (s *Service) joinLive(_ context.Context, d room.Descriptor, as NameChoice) error {
	lr := newLiveRoom(s.ctx, d)
	lr.as = as
	lr.state.SetBallotLimits(s.cfg.MaxBallots, roomstate.DefaultMaxBallotBytes)
	s.mu.Lock()
	lr.helpers = s.helpers[d.Room]
	s.mu.Unlock()
	if err := s.replayRoom(lr); err != nil {
		lr.cancel()
		return err
	}
	t, err := s.ps.JoinDecoding(Topic(d.Room), s.validator(lr))
	if err != nil {
		lr.cancel()
		return fmt.Errorf("room %s: %w", d.Room, err)
	}
	lr.topic = t
	lr.pub = topic.NewQueue[[]byte](t, publishPolicy)
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.live[d.Room]; dup || s.closed {
		lr.cancel()
		t.Close()
		if s.closed {
			return fmt.Errorf("room %s: %w", d.Room, errs.ErrClosed)
		}
		return nil
	}
	s.live[d.Room] = lr
	// Under s.mu, so that Close, which marks the service closed under it,
	// waits for all of them.
	s.goRoom(lr, func() { s.readRoom(lr) })
	s.provideRoom(lr)
	s.syncRoomSoon(lr)
	s.announceLoop(lr)
	s.publishLoop(lr)
	s.pruneLoop(lr)
	if s.hosting(lr) {
		s.tallyLoop(lr)
	}
	return nil
}

// replayRoom applies the stored history to a fresh room state, and in a
// room we host the ballots we took, and finds our own next sequence
// number.
func (s *Service) replayRoom(lr *liveRoom) error {
	self := s.self()
	return s.env.Store.View(func(tx *storage.Txn) error {
		if err := s.seedSize(tx, lr.desc.Room); err != nil {
			return err
		}
		ms, err := tx.RoomMessages(storage.RoomID(lr.desc.Room), MaxHistory, time.Time{})
		if err != nil {
			return err
		}
		for i := len(ms) - 1; i >= 0; i-- { // oldest first; the state does not mind
			m, err := room.UnmarshalMessage(ms[i].Data)
			if err != nil {
				continue
			}
			_ = lr.state.Apply(m)
		}
		if s.hosting(lr) {
			if err := s.replayBallots(tx, lr); err != nil {
				return err
			}
		}
		hw, err := tx.RoomHighWater(storage.RoomID(lr.desc.Room))
		if err != nil {
			return err
		}
		lr.seq = hw[self]
		delete(hw, self)
		lr.newcomer.Store(len(hw) == 0)
		if lr.seq == 0 || len(hw) == 0 {
			// We never spoke here, or nobody else ever did (not even a
			// listener's presence): no peer can hold a message of ours
			// that we lack, and our first message need not wait for a
			// sync.
			lr.markSynced()
		}
		return nil
	})
}

// hosting reports whether we are lr's host.
func (s *Service) hosting(lr *liveRoom) bool {
	return lr.desc.Host == s.env.Identity.Signing().Public()
}

// LeaveRoom unsubscribes from a room, after a leaving presence, and waits
// for the room's goroutines; its history stays in the store.
func (s *Service) LeaveRoom(id room.ID) error {
	if _, ok := s.get(id); ok {
		s.announcePresence(s.ctx, id, true)
	}
	s.mu.Lock()
	lr, ok := s.live[id]
	delete(s.live, id)
	s.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: not in room %s", errs.ErrNotFound, id)
	}
	lr.cancel()
	<-lr.published // the leaving presence goes out before the topic closes
	err := lr.topic.Close()
	lr.wg.Wait()
	return errors.Join(err, s.env.Store.Update(func(tx *storage.Txn) error {
		r, err := tx.Room(storage.RoomID(id))
		if err != nil {
			return err
		}
		r.Joined, r.Updated = false, time.Now().UTC()
		return tx.PutRoom(r)
	}))
}

// Rooms lists the rooms this node knows, joined or not.
func (s *Service) Rooms() ([]Info, error) {
	rs, err := s.storedRooms()
	if err != nil {
		return nil, err
	}
	var out []Info
	for _, r := range rs {
		info, err := s.roomInfo(room.ID(r.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (s *Service) roomInfo(id room.ID) (Info, error) {
	var r storage.Room
	if err := s.env.Store.View(func(tx *storage.Txn) error {
		var err error
		r, err = tx.Room(storage.RoomID(id))
		return err
	}); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return Info{}, fmt.Errorf("%w: room %s", errs.ErrNotFound, id)
		}
		return Info{}, err
	}
	d, err := room.UnmarshalDescriptor(r.Descriptor)
	if err != nil {
		return Info{}, err
	}
	info := Info{ID: id, Name: d.Name, Description: d.Description, Host: d.Host.PeerID(), Start: d.Start}
	if lr, ok := s.get(id); ok {
		info.Joined = true
		lr.mu.Lock()
		info.Listeners, _ = lr.state.Presence(time.Now())
		lr.mu.Unlock()
	}
	return info, nil
}

// rejoin joins again, at start, the rooms joined before.
func (s *Service) rejoin(ctx context.Context) error {
	rs, err := s.storedRooms()
	if err != nil {
		return fmt.Errorf("rooms: %w", err)
	}
	for _, r := range rs {
		if !r.Joined {
			continue
		}
		d, err := room.UnmarshalDescriptor(r.Descriptor)
		if err != nil {
			s.env.Log.Warn("room: stored descriptor unreadable", "err", err)
			continue
		}
		if err := s.joinLive(ctx, d, storedChoice(r)); err != nil {
			return err
		}
	}
	return nil
}

// storedRooms lists the rooms in the store, joined or not.
func (s *Service) storedRooms() ([]storage.Room, error) {
	var rs []storage.Room
	err := s.env.Store.View(func(tx *storage.Txn) error {
		var err error
		rs, err = tx.Rooms()
		return err
	})
	return rs, err
}
