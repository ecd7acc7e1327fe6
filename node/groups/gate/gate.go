// Package gate admits a private group's envelopes from its GossipSub topic.
// A Gate holds the rosters the validator checks against (a View, swapped
// whole when the rosters change), each member's rate, the count of
// envelopes rejected, and the envelopes of epochs not known yet, kept aside
// until their roster arrives. Package groups makes one per joined group;
// storing and opening what passes is its business.
package gate

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/pubsub"
)

const (
	// memberRate and memberBurst bound each member's envelopes that a node
	// forwards; beyond them the validator ignores (sync repairs honest
	// bursts).
	memberRate  = rate.Limit(100)
	memberBurst = 500
	// maxStash bounds the envelopes of epochs not known yet that a node
	// keeps in memory until their roster arrives.
	maxStash = 4096
	// maxEpochAhead bounds how far ahead of the newest known epoch a
	// stashed envelope may be.
	maxEpochAhead = 64
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
	// rejected counts envelopes the validator rejected (forged, from
	// non-members, of another group).
	rejected atomic.Int64

	stashMu sync.Mutex
	stash   map[uint64][][]byte // epoch -> envelopes waiting for its roster
	stashed int
}

// New makes the gate of group id for this node (self). stored reports
// whether an envelope of that hash is in the store already. Set a View
// before the gate validates.
func New(id group.ID, self peer.ID, stored func(hash [32]byte) bool, log *slog.Logger) *Gate {
	return &Gate{id: id, self: self, stored: stored, log: log,
		limiter: pubsub.NewLimiter(memberRate, memberBurst, group.MaxMembers), stash: map[uint64][][]byte{}}
}

// View is the rosters the gate checks against now.
func (g *Gate) View() *View { return g.view.Load() }

// SetView swaps the rosters, and takes out the envelopes kept aside whose
// epochs they reach: the caller checks those against the rosters and
// stores them.
func (g *Gate) SetView(v *View) (ready [][]byte) {
	g.view.Store(v)
	g.stashMu.Lock()
	defer g.stashMu.Unlock()
	for epoch, datas := range g.stash {
		if epoch <= v.Latest {
			ready = append(ready, datas...)
			g.stashed -= len(datas)
			delete(g.stash, epoch)
		}
	}
	return ready
}

// Rejected counts the envelopes the validator rejected.
func (g *Gate) Rejected() int64 { return g.rejected.Load() }

// Validate checks an envelope before GossipSub delivers or forwards it:
// form, group, the sender's rate, membership at the envelope's epoch and
// the signature. Forged envelopes, non-members and other groups' envelopes
// are Reject (scored); what depends on this node's state is Ignore: an
// epoch it does not know yet (kept aside until its roster arrives), a
// duplicate of a stored envelope, a sender over its rate.
func (g *Gate) Validate(_ context.Context, from peer.ID, data []byte) pubsub.Result {
	e, err := group.UnmarshalEnvelope(data)
	if err != nil {
		g.rejected.Add(1)
		return pubsub.Reject
	}
	if e.Group != g.id {
		g.log.Debug("group: envelope of another group", "from", from)
		g.rejected.Add(1)
		return pubsub.Reject
	}
	if from != g.self && !g.limiter.Allow(string(e.Sender[:])) {
		return pubsub.Ignore
	}
	v := g.view.Load()
	r := v.Rosters[e.Epoch]
	if r == nil {
		if e.Epoch > v.Latest && e.Epoch-v.Latest <= maxEpochAhead && e.VerifySignature() == nil {
			g.keep(e.Epoch, data)
		}
		return pubsub.Ignore
	}
	if err := r.CheckSender(e); err != nil {
		// A relay that forwards a non-member's envelope may hold the
		// other side of a roster fork: only its author is punished.
		if errors.Is(err, group.ErrNotMember) && from != e.Sender.PeerID() {
			return pubsub.Ignore
		}
		g.log.Debug("group: envelope rejected", "from", from, "err", err)
		g.rejected.Add(1)
		return pubsub.Reject
	}
	if from != g.self && g.stored(e.Hash()) {
		return pubsub.Ignore
	}
	return pubsub.Accept
}

// keep stashes an envelope of an epoch whose roster has not arrived.
func (g *Gate) keep(epoch uint64, data []byte) {
	g.stashMu.Lock()
	defer g.stashMu.Unlock()
	if g.stashed >= maxStash {
		return // sync brings it later
	}
	g.stash[epoch] = append(g.stash[epoch], data)
	g.stashed++
}
