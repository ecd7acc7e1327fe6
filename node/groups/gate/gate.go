// Package gate admits a private group's envelopes from its epochs' GossipSub
// topics. A Gate holds the rosters the validator checks against (a View,
// swapped whole when the rosters change), each member's rate, the time each
// old epoch's topic closes, and the count of envelopes rejected. Package
// groups makes one per joined group and one validator per epoch topic;
// storing and opening what passes is its business.
//
// Each epoch has its own topic, which only the epoch's members can name and
// on which only they are allowed (pubsub.Private). An envelope travels there
// as a frame whose sender, sequence number and signature only the epoch's
// members can read; the validator opens the frame with the epoch key.
// Nothing is kept in memory for later: a frame either passes now or is
// dropped (history sync brings what was missed).
package gate

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/pubsub"
)

const (
	// memberRate and memberBurst bound each member's envelopes that a node
	// forwards; beyond them the validator ignores (sync repairs honest
	// bursts).
	memberRate  = rate.Limit(100)
	memberBurst = 500
)

// View is what the validator checks against: the verified rosters from
// the base epoch on.
type View struct {
	Base, Latest uint64
	Rosters      map[uint64]*group.Roster
}

// ViewOf is the view of a roster chain.
func ViewOf(chain *rosterchain.Chain) *View {
	v := &View{Base: chain.Base, Latest: chain.Latest().Epoch, Rosters: make(map[uint64]*group.Roster, len(chain.Rosters))}
	for _, r := range chain.Rosters {
		v.Rosters[r.Epoch] = r
	}
	return v
}

// Gate checks one group's envelopes.
type Gate struct {
	id      group.ID
	self    peer.ID
	stored  func(hash [32]byte) bool
	log     *slog.Logger
	view    atomic.Pointer[View]
	limiter *pubsub.Limiter
	// rejected counts envelopes the validator rejected (forged, from or
	// through non-members, late posts into a closed epoch).
	rejected atomic.Int64

	mu      sync.Mutex
	closing map[uint64]time.Time // epoch -> end of its topic's grace window
	now     func() time.Time     // time.Now; tests move it
}

// New makes the gate of group id for this node (self). stored reports
// whether an envelope of that hash is in the store already. Set a View
// before the gate validates.
func New(id group.ID, self peer.ID, stored func(hash [32]byte) bool, log *slog.Logger) *Gate {
	return &Gate{id: id, self: self, stored: stored, log: log,
		limiter: pubsub.NewLimiter(memberRate, memberBurst, group.MaxMembers),
		closing: map[uint64]time.Time{}, now: time.Now}
}

// View is the rosters the gate checks against now.
func (g *Gate) View() *View { return g.view.Load() }

// SetView swaps the rosters.
func (g *Gate) SetView(v *View) { g.view.Store(v) }

// EndEpoch says that epoch's topic closes at end, a grace window after the
// next epoch began: envelopes of the epoch that arrive later are refused.
// ReopenEpoch undoes it (the next epoch was dropped in a fork).
func (g *Gate) EndEpoch(epoch uint64, end time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closing[epoch] = end
}

// ReopenEpoch forgets a closing time set by EndEpoch.
func (g *Gate) ReopenEpoch(epoch uint64) {
	g.mu.Lock()
	defer g.mu.Unlock()
	delete(g.closing, epoch)
}

// closed reports whether epoch's grace window is over.
func (g *Gate) closed(epoch uint64) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	end, ok := g.closing[epoch]
	return ok && g.now().After(end)
}

// Rejected counts the envelopes the validator rejected.
func (g *Gate) Rejected() int64 { return g.rejected.Load() }

// Validator is the validator of the topic of gk's epoch. What it accepts
// it hands on decoded (a *group.Envelope).
func (g *Gate) Validator(gk group.GroupKey) pubsub.DecodingValidator {
	return func(_ context.Context, from peer.ID, data []byte) (pubsub.Result, any) {
		r, e := g.validate(gk, from, data)
		if r != pubsub.Accept {
			return r, nil
		}
		return r, e
	}
}

// validate checks a frame before GossipSub delivers or forwards it: that it
// came from a member of the epoch (the topic is theirs alone), that it
// opens under the epoch key, the sender's rate, its membership and
// signature, the epoch's grace window. What a member could not have sent in
// good faith is Reject (scored); what depends on this node's state is
// Ignore: a duplicate of a stored envelope, a sender over its rate, a late
// post relayed (the relay's window may have closed a little later).
func (g *Gate) validate(gk group.GroupKey, from peer.ID, data []byte) (pubsub.Result, *group.Envelope) {
	v := g.view.Load()
	r := v.Rosters[gk.Epoch]
	if r == nil {
		return pubsub.Ignore, nil // the epoch was dropped in a fork; its topic is closing
	}
	local := from == g.self
	if !local && !isMember(r, from) {
		g.log.Debug("group: frame from a peer not in the epoch", "from", from, "epoch", gk.Epoch)
		return g.reject(), nil
	}
	e, err := gk.Unframe(data)
	if err != nil {
		g.log.Debug("group: frame does not open", "from", from, "epoch", gk.Epoch, "err", err)
		return g.reject(), nil
	}
	author := from == e.Sender.PeerID()
	if !local && !g.limiter.Allow(string(e.Sender[:])) {
		return pubsub.Ignore, nil
	}
	if err := r.CheckSender(e); err != nil {
		// Only holders of this epoch's key can make a frame that opens
		// here, and both sides of a roster fork have keys of their own
		// (so topics of their own): a relay that forwards a non-member's
		// frame forged it or did not check it.
		g.log.Debug("group: envelope rejected", "from", from, "err", err)
		return g.reject(), nil
	}
	if g.closed(gk.Epoch) {
		// A post into an epoch that ended a grace window ago: what a
		// removed member would do. Its author is punished; a member
		// relaying it late is not.
		if author {
			return g.reject(), nil
		}
		return pubsub.Ignore, nil
	}
	if !local && g.stored(e.Hash()) {
		return pubsub.Ignore, nil
	}
	return pubsub.Accept, e
}

func (g *Gate) reject() pubsub.Result {
	g.rejected.Add(1)
	return pubsub.Reject
}

func isMember(r *group.Roster, p peer.ID) bool {
	pk, err := keys.PublicKeyFromPeerID(p)
	return err == nil && r.IsMember(pk)
}
