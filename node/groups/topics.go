package groups

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/storage"
)

// Each epoch of a group has a topic of its own, named from the epoch key
// (group.GroupKey.Topic), and only the epoch's members are allowed on it
// (pubsub.Private). A node is on the topic of the newest epoch whose key it
// holds, and stays on the topics of older epochs for a grace window
// (Config.EpochGrace) after it moved on, for what members who had not
// received the new key yet still sent there. A removed member never gets the
// next key, so it neither knows the next topic nor is allowed on it, and its
// posts into old epochs are refused once their windows are over.

// updateTopics joins the topic of the newest epoch whose key is here and
// of which this node is a member, starts the grace window of older epochs'
// topics, and leaves those whose window is over or whose roster or key is
// gone. It returns how long until the next window ends (0: none open).
func (s *Service) updateTopics(lg *liveGroup) (time.Duration, error) {
	v := lg.gate.View()
	held, err := s.heldKeys(lg.id, v.Base, v.Latest)
	if err != nil {
		return 0, err
	}
	var newest *group.GroupKey
	for e := v.Latest; ; e-- {
		if k := held[e]; k != nil && v.Rosters[e] != nil && v.Rosters[e].IsMember(s.self()) {
			newest = k
			break
		}
		if e == v.Base {
			break
		}
	}
	lg.mu.Lock()
	defer lg.mu.Unlock()
	if lg.ctx.Err() != nil {
		return 0, nil // being left: stopGroupLive closes the topics
	}
	now := time.Now()
	var joinErr error
	if newest != nil {
		if et := lg.topics[newest.Epoch]; et == nil || et.key.Key != newest.Key {
			if et != nil {
				s.leaveTopic(lg, newest.Epoch)
			}
			joinErr = s.joinTopic(lg, *newest, v.Rosters[newest.Epoch])
		}
		if joinErr == nil {
			lg.current = newest.Epoch
		}
	}
	var next time.Duration
	for e, et := range lg.topics {
		r, k := v.Rosters[e], held[e]
		switch {
		case r == nil || k == nil || k.Key != et.key.Key:
			s.leaveTopic(lg, e) // dropped in a fork, or the group's keys are gone
			continue
		case e == lg.current:
			et.end = time.Time{}
			lg.gate.ReopenEpoch(e)
		case et.end.IsZero():
			et.end = now.Add(s.cfg.EpochGrace)
			lg.gate.EndEpoch(e, et.end)
		case !now.Before(et.end):
			s.leaveTopic(lg, e)
			continue
		}
		s.allow(et.t.Name(), r) // a fork may have changed the epoch's roster
		if !et.end.IsZero() {
			if d := et.end.Sub(now); next == 0 || d < next {
				next = d
			}
		}
	}
	return next, joinErr
}

// retopic is the group's topic loop: it runs updateTopics when asked and
// when the next grace window ends.
func (s *Service) retopic(lg *liveGroup) time.Duration {
	next, err := s.updateTopics(lg)
	if err != nil {
		s.log.Warn("group: epoch topic not joined", "group", lg.id, "err", err)
	}
	return next
}

// joinTopic joins the topic of gk's epoch, allowing r's members on it, and
// starts its reader. lg.mu is held.
func (s *Service) joinTopic(lg *liveGroup, gk group.GroupKey, r *group.Roster) error {
	name := gk.Topic()
	s.allow(name, r)
	t, err := s.ps.JoinDecoding(name, lg.gate.Validator(gk))
	if err != nil {
		s.forget(name)
		return fmt.Errorf("epoch %d: %w", gk.Epoch, err)
	}
	lg.topics[gk.Epoch] = &epochTopic{key: gk, t: t}
	s.goGroup(lg, func() { s.readTopic(lg, t) })
	return nil
}

// leaveTopic leaves an epoch's topic. lg.mu is held.
func (s *Service) leaveTopic(lg *liveGroup, epoch uint64) {
	et := lg.topics[epoch]
	delete(lg.topics, epoch)
	if et == nil {
		return
	}
	if err := et.t.Close(); err != nil {
		s.log.Debug("group: topic not closed cleanly", "group", lg.id, "epoch", epoch, "err", err)
	}
	s.forget(et.t.Name())
}

// closeTopics leaves every topic of the group.
func (s *Service) closeTopics(lg *liveGroup) {
	lg.mu.Lock()
	defer lg.mu.Unlock()
	for e := range lg.topics {
		s.leaveTopic(lg, e)
	}
}

// allow lets r's members, and no one else, on topic.
func (s *Service) allow(topic string, r *group.Roster) {
	if s.cfg.Private == nil {
		return
	}
	peers := make([]peer.ID, len(r.Members))
	for i, m := range r.Members {
		peers[i] = m.Key.PeerID()
	}
	s.cfg.Private.Allow(topic, peers)
}

func (s *Service) forget(topic string) {
	if s.cfg.Private != nil {
		s.cfg.Private.Forget(topic)
	}
}

// heldKeys reads the group's epoch keys from base to latest that are here.
func (s *Service) heldKeys(id group.ID, base, latest uint64) (map[uint64]*group.GroupKey, error) {
	held := map[uint64]*group.GroupKey{}
	err := s.store.View(func(tx *storage.Txn) error {
		for e := base; e <= latest; e++ {
			kb, err := tx.GroupEpochKey(sid(id), e)
			if errors.Is(err, storage.ErrNotFound) {
				continue
			}
			if err != nil {
				return err
			}
			k, err := group.UnmarshalGroupKey(kb)
			if err != nil {
				return err
			}
			held[e] = &k
		}
		return nil
	})
	return held, err
}

// EpochTopics names the topics a live group is on, with their epochs: a
// diagnostic for status.
func (s *Service) EpochTopics(id group.ID) map[string]uint64 {
	lg, ok := s.get(id)
	if !ok {
		return nil
	}
	lg.mu.Lock()
	defer lg.mu.Unlock()
	out := make(map[string]uint64, len(lg.topics))
	for e, et := range lg.topics {
		out[et.t.Name()] = e
	}
	return out
}
