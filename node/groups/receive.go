package groups

import (
	"errors"
	"time"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/content"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"
)

// incoming is a decoded envelope with the bytes it came in.
type incoming struct {
	e    *group.Envelope
	data []byte
}

// storeEnvelopes stores checked envelopes of a group in one transaction and
// opens those whose epoch key is here; the others wait for it.
func (s *Service) storeEnvelopes(id group.ID, in []incoming) error {
	if len(in) == 0 {
		return nil
	}
	unlock := s.lock(id)
	var (
		events []event.Event
		worthy bool
	)
	err := s.store.Update(func(tx *storage.Txn) error {
		events, worthy = events[:0], false
		g, chain, joined, err := joinedChain(tx, id)
		if err != nil || !joined {
			return err
		}
		now := time.Now().UTC()
		keys := epochKeys{}
		for _, x := range in {
			ev, w, err := s.storeEnvelope(tx, &g, chain, keys, x, now)
			if err != nil {
				return err
			}
			if ev != nil {
				events = append(events, *ev)
			}
			worthy = worthy || w
		}
		return nil
	})
	unlock()
	if err != nil {
		return err
	}
	for _, e := range events {
		s.bus.Publish(e)
	}
	if worthy {
		if lg, ok := s.get(id); ok {
			poke(lg.receipt)
		}
	}
	return nil
}

// storeEnvelope stores one checked envelope, unless held already, and
// opens it if its epoch key is here. It returns the event to publish and
// whether a receipt is worth sending.
func (s *Service) storeEnvelope(tx *storage.Txn, g *storage.Group, chain *rosterchain.Chain, keys epochKeys, x incoming, now time.Time) (*event.Event, bool, error) {
	se := storage.GroupEnvelope{Group: g.ID, Epoch: x.e.Epoch, Sender: x.e.Sender.PeerID(), Seq: x.e.Seq, ID: x.e.Hash(), Data: x.data, Received: now}
	if dup, err := tx.HasGroupEnvelope(g.ID, se.ID); err != nil || dup {
		return nil, false, err
	}
	before, err := tx.GroupNext(g.ID, se.Epoch, se.Sender)
	if err != nil {
		return nil, false, err
	}
	// Decrypt before storing, so the envelope is written once.
	pt, rc, err := s.openEnvelope(tx, *g, keys, x.e, se.Sender)
	if err != nil {
		return nil, false, err
	}
	se.Opened = rc != nil
	added, err := tx.PutGroupEnvelope(se)
	if errors.Is(err, storage.ErrMismatch) {
		s.log.Warn("group: a member signed two envelopes with one seq", "group", g.ID, "sender", se.Sender, "epoch", se.Epoch, "seq", se.Seq)
		return nil, false, nil
	}
	if err != nil || !added {
		return nil, false, err
	}
	worthy := false
	if se.Seq == before {
		// Filling a gap moves the mark past envelopes held already,
		// which the last receipt could not count: send another.
		after, err := tx.GroupNext(g.ID, se.Epoch, se.Sender)
		if err != nil {
			return nil, false, err
		}
		worthy = after > se.Seq+1
	}
	if rc == nil {
		return nil, worthy, nil // waits for its key
	}
	ev, w, err := s.opened(tx, g, chain, x.e, se, pt, rc, now)
	return ev, worthy || w, err
}

// epochKeys caches a transaction's epoch keys; nil: not held.
type epochKeys map[uint64]*group.GroupKey

// openEnvelope decrypts an envelope whose signature was checked when it
// arrived, if its epoch key is here. It returns the plaintext and the
// advanced receive chain (to be stored with the envelope), or a nil chain
// if the envelope cannot be opened (yet).
func (s *Service) openEnvelope(tx *storage.Txn, g storage.Group, keys epochKeys, e *group.Envelope, sender peer.ID) ([]byte, *group.ReceiveChain, error) {
	gk, cached := keys[e.Epoch]
	if !cached {
		kb, err := tx.GroupEpochKey(g.ID, e.Epoch)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return nil, nil, err
		default:
			k, err := group.UnmarshalGroupKey(kb)
			if err != nil {
				return nil, nil, err
			}
			gk = &k
		}
		keys[e.Epoch] = gk
	}
	if gk == nil {
		return nil, nil, nil
	}
	var rc *group.ReceiveChain
	if b, err := tx.GroupReceiveChain(g.ID, e.Epoch, sender); err == nil {
		if rc, err = group.UnmarshalReceiveChain(b); err != nil {
			return nil, nil, err
		}
	} else if errors.Is(err, storage.ErrNotFound) {
		if rc, err = group.NewReceiveChain(*gk, e.Sender); err != nil {
			return nil, nil, err
		}
	} else {
		return nil, nil, err
	}
	pt, err := rc.OpenVerified(e)
	if err != nil {
		s.log.Debug("group: envelope not opened", "group", g.ID, "sender", sender, "epoch", e.Epoch, "seq", e.Seq, "err", err)
		return nil, nil, nil
	}
	return pt, rc, nil
}

// opened stores the receive chain that opened a stored envelope and
// applies what the envelope says. It returns the event to publish and
// whether the message is one that members acknowledge with a receipt.
func (s *Service) opened(tx *storage.Txn, g *storage.Group, chain *rosterchain.Chain, e *group.Envelope, se storage.GroupEnvelope, pt []byte, rc *group.ReceiveChain, now time.Time) (*event.Event, bool, error) {
	cb, err := rc.MarshalBinary()
	if err != nil {
		return nil, false, err
	}
	if err := tx.PutGroupReceiveChain(g.ID, e.Epoch, se.Sender, cb); err != nil {
		return nil, false, err
	}
	var gc groupspb.GroupContent
	if err := proto.Unmarshal(pt, &gc); err != nil {
		s.log.Debug("group: undecodable content", "group", g.ID, "sender", se.Sender, "err", err)
		return nil, false, nil
	}
	return s.applyGroupContent(tx, g, chain, e, se.ID, &gc, se.Sender == s.selfID(), now)
}

// openPending opens the stored envelopes of an epoch that waited for its
// key.
func (s *Service) openPending(id group.ID, epoch uint64) error {
	for {
		unlock := s.lock(id)
		var (
			events []event.Event
			opened int
			more   bool
		)
		err := s.store.Update(func(tx *storage.Txn) error {
			events, opened, more = events[:0], 0, false
			g, chain, joined, err := joinedChain(tx, id)
			if err != nil || !joined {
				return err
			}
			es, err := tx.UnopenedGroupEnvelopes(g.ID, epoch, groupReadBatch)
			if err != nil {
				return err
			}
			more = len(es) == groupReadBatch
			now := time.Now().UTC()
			keys := epochKeys{}
			for _, se := range es {
				e, err := group.UnmarshalEnvelope(se.Data)
				if err != nil {
					continue
				}
				// Stored envelopes had their signatures checked on arrival.
				pt, rc, err := s.openEnvelope(tx, g, keys, e, se.Sender)
				if err != nil || rc == nil {
					if err != nil {
						return err
					}
					continue
				}
				if err := tx.SetGroupEnvelopeOpened(se); err != nil {
					return err
				}
				ev, _, err := s.opened(tx, &g, chain, e, se, pt, rc, now)
				if err != nil {
					return err
				}
				opened++
				if ev != nil {
					events = append(events, *ev)
				}
			}
			return nil
		})
		unlock()
		if err != nil {
			return err
		}
		for _, e := range events {
			s.bus.Publish(e)
		}
		if !more || opened == 0 {
			return nil
		}
	}
}

// applyGroupContent stores what an opened envelope says (content.Apply)
// under the service's limits.
func (s *Service) applyGroupContent(tx *storage.Txn, g *storage.Group, chain *rosterchain.Chain, e *group.Envelope, id [32]byte, gc *groupspb.GroupContent, outbound bool, now time.Time) (*event.Event, bool, error) {
	return content.Apply(tx, g, chain, e, id, gc, outbound, now, content.Limits{MaxTextBytes: s.cfg.MaxTextBytes, Log: s.log})
}
