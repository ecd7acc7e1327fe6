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
	"time"

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
	// The envelopes of epochs not known yet that a node keeps in memory
	// until their roster arrives are bounded in count, in bytes, in bytes
	// per forwarding peer, and in age; what does not fit, sync brings later.
	maxStash        = 4096
	maxStashBytes   = 4 << 20
	maxStashPerPeer = 1 << 20
	stashTTL        = 2 * time.Minute
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
	stash   map[uint64][]stashed // epoch -> envelopes waiting for its roster
	stashN  int                  // envelopes in stash
	bytes   int                  // their bytes
	byPeer  map[peer.ID]int      // their bytes, per forwarding peer
	now     func() time.Time     // time.Now; tests move it
}

// stashed is an envelope kept aside: what it is, who forwarded it, when.
type stashed struct {
	data []byte
	from peer.ID
	at   time.Time
}

// New makes the gate of group id for this node (self). stored reports
// whether an envelope of that hash is in the store already. Set a View
// before the gate validates.
func New(id group.ID, self peer.ID, stored func(hash [32]byte) bool, log *slog.Logger) *Gate {
	return &Gate{id: id, self: self, stored: stored, log: log,
		limiter: pubsub.NewLimiter(memberRate, memberBurst, group.MaxMembers),
		stash:   map[uint64][]stashed{}, byPeer: map[peer.ID]int{}, now: time.Now}
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
	for epoch, kept := range g.stash {
		if epoch <= v.Latest {
			for _, k := range kept {
				ready = append(ready, k.data)
			}
			g.drop(epoch, len(kept))
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
// epoch it does not know yet (kept aside until its roster arrives, if a
// member of the newest roster signed it; see ahead), a duplicate of a
// stored envelope, a sender over its rate.
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
		return g.ahead(v, from, e, data)
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

// ahead judges an envelope of an epoch this node has no roster for. Only
// an envelope a member of the newest known roster signed, for an epoch
// not far ahead, is kept aside (a sender not in the newest roster cannot
// be in the next, but for an addition, which sync repairs). A non-member's
// envelope is Reject when its author sent it (scored: a fresh key per
// envelope no longer fills the node's memory for free), Ignore when relayed.
func (g *Gate) ahead(v *View, from peer.ID, e *group.Envelope, data []byte) pubsub.Result {
	latest := v.Rosters[v.Latest]
	if e.Epoch <= v.Latest || e.Epoch-v.Latest > maxEpochAhead || latest == nil {
		return pubsub.Ignore
	}
	if !latest.IsMember(e.Sender) {
		if from == e.Sender.PeerID() {
			g.rejected.Add(1)
			return pubsub.Reject
		}
		return pubsub.Ignore
	}
	if e.VerifySignature() != nil {
		g.rejected.Add(1)
		return pubsub.Reject
	}
	g.keep(e.Epoch, from, data)
	return pubsub.Ignore
}

// keep stashes an envelope of an epoch whose roster has not arrived, within
// the stash's bounds, after dropping what has waited longer than stashTTL.
func (g *Gate) keep(epoch uint64, from peer.ID, data []byte) {
	g.stashMu.Lock()
	defer g.stashMu.Unlock()
	now := g.now()
	for ep, kept := range g.stash {
		n := 0
		for n < len(kept) && now.Sub(kept[n].at) > stashTTL {
			n++
		}
		g.drop(ep, n)
	}
	if g.stashN >= maxStash || g.bytes+len(data) > maxStashBytes || g.byPeer[from]+len(data) > maxStashPerPeer {
		return // sync brings it later
	}
	g.stash[epoch] = append(g.stash[epoch], stashed{data: data, from: from, at: now})
	g.stashN++
	g.bytes += len(data)
	g.byPeer[from] += len(data)
}

// drop takes the n oldest envelopes of epoch out of the stash.
func (g *Gate) drop(epoch uint64, n int) {
	if n == 0 {
		return
	}
	kept := g.stash[epoch]
	for _, k := range kept[:n] {
		g.stashN--
		g.bytes -= len(k.data)
		if g.byPeer[k.from] -= len(k.data); g.byPeer[k.from] <= 0 {
			delete(g.byPeer, k.from)
		}
	}
	if n == len(kept) {
		delete(g.stash, epoch)
		return
	}
	g.stash[epoch] = kept[n:]
}

// stashBytes is the bytes kept aside now.
func (g *Gate) stashBytes() int {
	g.stashMu.Lock()
	defer g.stashMu.Unlock()
	return g.bytes
}
