package groups

import (
	"context"
	"errors"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/peer"
)

// groupValidator checks an envelope before GossipSub delivers or forwards
// it: form, group, the sender's rate, membership at the envelope's epoch
// and the signature. Forged envelopes, non-members and other groups'
// envelopes are Reject (scored); what depends on this node's state is
// Ignore: an epoch it does not know yet (kept aside until its roster
// arrives), a duplicate of a stored envelope, a sender over its rate.
func (s *Service) groupValidator(lg *liveGroup) pubsub.Validator {
	self := s.selfID()
	return func(_ context.Context, from peer.ID, data []byte) pubsub.Result {
		e, err := group.UnmarshalEnvelope(data)
		if err != nil {
			lg.rejected.Add(1)
			return pubsub.Reject
		}
		if e.Group != lg.id {
			s.log.Debug("group: envelope of another group", "from", from)
			lg.rejected.Add(1)
			return pubsub.Reject
		}
		if from != self && !lg.limiter.Allow(string(e.Sender[:])) {
			return pubsub.Ignore
		}
		v := lg.view.Load()
		r := v.rosters[e.Epoch]
		if r == nil {
			if e.Epoch > v.latest && e.Epoch-v.latest <= maxEpochAhead && e.VerifySignature() == nil {
				lg.keep(e.Epoch, data)
			}
			return pubsub.Ignore
		}
		if err := r.CheckSender(e); err != nil {
			// A relay that forwards a non-member's envelope may hold the
			// other side of a roster fork: only its author is punished.
			if errors.Is(err, group.ErrNotMember) && from != e.Sender.PeerID() {
				return pubsub.Ignore
			}
			s.log.Debug("group: envelope rejected", "from", from, "err", err)
			lg.rejected.Add(1)
			return pubsub.Reject
		}
		if from != self {
			var dup bool
			_ = s.store.View(func(tx *storage.Txn) error {
				dup, _ = tx.HasGroupEnvelope(sid(lg.id), e.Hash())
				return nil
			})
			if dup {
				return pubsub.Ignore
			}
		}
		return pubsub.Accept
	}
}

// keep stashes an envelope of an epoch whose roster has not arrived.
func (lg *liveGroup) keep(epoch uint64, data []byte) {
	lg.stashMu.Lock()
	defer lg.stashMu.Unlock()
	if lg.stashed >= maxGroupStash {
		return // sync brings it later
	}
	lg.stash[epoch] = append(lg.stash[epoch], data)
	lg.stashed++
}
