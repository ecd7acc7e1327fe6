package groups

import (
	"fmt"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/storage"
)

// rosterChain is the verified chain of rosters this node holds for a group,
// from its base epoch (genesis for the creator, the inviting epoch for an
// invitee) to the newest.
type rosterChain struct {
	base    uint64
	rosters []*group.Roster // rosters[i] is epoch base+i
}

func (c *rosterChain) latest() *group.Roster { return c.rosters[len(c.rosters)-1] }

func (c *rosterChain) at(epoch uint64) *group.Roster {
	if epoch < c.base || epoch-c.base >= uint64(len(c.rosters)) {
		return nil
	}
	return c.rosters[epoch-c.base]
}

// loadChain reads a group's rosters. They were verified when stored.
func loadChain(tx *storage.Txn, g storage.Group) (*rosterChain, error) {
	recs, err := tx.GroupRosters(g.ID)
	if err != nil {
		return nil, err
	}
	c := &rosterChain{base: g.BaseEpoch}
	for _, rec := range recs {
		if rec.Epoch < g.BaseEpoch {
			continue
		}
		if rec.Epoch != c.base+uint64(len(c.rosters)) {
			return nil, fmt.Errorf("group %s: rosters skip from %d to %d", g.ID, c.base+uint64(len(c.rosters)), rec.Epoch)
		}
		r, err := group.UnmarshalRoster(rec.Data)
		if err != nil {
			return nil, fmt.Errorf("group %s: stored roster %d: %w", g.ID, rec.Epoch, err)
		}
		c.rosters = append(c.rosters, r)
	}
	if len(c.rosters) == 0 {
		return nil, fmt.Errorf("group %s: no roster from epoch %d", g.ID, g.BaseEpoch)
	}
	return c, nil
}

// adoption is what adoptRoster did.
type adoption int

const (
	adoptHeld     adoption = iota // the roster was already in the chain
	adoptAppended                 // the roster extends the chain
	adoptSwitched                 // the roster won a fork: later epochs were dropped
	adoptLost                     // a competing roster of that epoch wins: ignored
	adoptGap                      // rosters between ours and it are missing
	adoptStale                    // before our base epoch
)

// adoptRoster checks that r follows the chain and stores it. A roster for
// an epoch the chain already holds that is a different, valid successor of
// the same predecessor is a fork: the one that Beats the other is kept, and
// every epoch after a replaced roster is dropped (its rosters, keys and send
// chain), since it followed the loser. chain is updated in place. lost, if
// not nil, is the replaced roster.
func adoptRoster(tx *storage.Txn, id group.ID, chain *rosterChain, r *group.Roster) (adoption, *group.Roster, error) {
	if r.Group != id {
		return 0, nil, fmt.Errorf("%w: roster of another group", errs.ErrProtocol)
	}
	if r.Epoch < chain.base {
		return adoptStale, nil, nil
	}
	if cur := chain.at(r.Epoch); cur != nil && cur.Hash() == r.Hash() {
		return adoptHeld, nil, nil
	}
	if r.Epoch == chain.base {
		return adoptLost, nil, nil // our base came with the invitation we trust
	}
	if r.Epoch > chain.latest().Epoch+1 {
		return adoptGap, nil, nil
	}
	if err := r.VerifyFollows(chain.at(r.Epoch - 1)); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	rb, err := r.MarshalBinary()
	if err != nil {
		return 0, nil, err
	}
	cur := chain.at(r.Epoch)
	if cur != nil {
		if !r.Beats(cur) {
			return adoptLost, nil, nil
		}
		if err := tx.DeleteGroupRostersFrom(sid(id), r.Epoch); err != nil {
			return 0, nil, err
		}
		chain.rosters = chain.rosters[:r.Epoch-chain.base]
	}
	if err := tx.PutGroupRoster(sid(id), r.Epoch, rb); err != nil {
		return 0, nil, err
	}
	chain.rosters = append(chain.rosters, r)
	if cur != nil {
		return adoptSwitched, cur, nil
	}
	return adoptAppended, nil, nil
}
