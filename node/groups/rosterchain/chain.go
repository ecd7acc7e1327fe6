package rosterchain

import (
	"fmt"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/storage"
)

// Chain is the verified chain of rosters this node holds for a group,
// from its base epoch (genesis for the creator, the inviting epoch for an
// invitee) to the newest.
type Chain struct {
	Base    uint64
	Rosters []*group.Roster // Rosters[i] is epoch Base+i
}

// Latest is the newest roster.
func (c *Chain) Latest() *group.Roster { return c.Rosters[len(c.Rosters)-1] }

// At is the roster of epoch, or nil when the chain does not hold it.
func (c *Chain) At(epoch uint64) *group.Roster {
	if epoch < c.Base || epoch-c.Base >= uint64(len(c.Rosters)) {
		return nil
	}
	return c.Rosters[epoch-c.Base]
}

// Load reads a group's rosters. They were verified when stored.
func Load(tx *storage.Txn, g storage.Group) (*Chain, error) {
	recs, err := tx.GroupRosters(g.ID)
	if err != nil {
		return nil, err
	}
	c := &Chain{Base: g.BaseEpoch}
	for _, rec := range recs {
		if rec.Epoch < g.BaseEpoch {
			continue
		}
		if rec.Epoch != c.Base+uint64(len(c.Rosters)) {
			return nil, fmt.Errorf("group %s: rosters skip from %d to %d", g.ID, c.Base+uint64(len(c.Rosters)), rec.Epoch)
		}
		r, err := group.UnmarshalRoster(rec.Data)
		if err != nil {
			return nil, fmt.Errorf("group %s: stored roster %d: %w", g.ID, rec.Epoch, err)
		}
		c.Rosters = append(c.Rosters, r)
	}
	if len(c.Rosters) == 0 {
		return nil, fmt.Errorf("group %s: no roster from epoch %d", g.ID, g.BaseEpoch)
	}
	return c, nil
}

// Adoption is what Adopt did.
type Adoption int

const (
	Held     Adoption = iota // the roster was already in the chain
	Appended                 // the roster extends the chain
	Switched                 // the roster won a fork: later epochs were dropped
	Lost                     // a competing roster of that epoch wins: ignored
	Gap                      // rosters between ours and it are missing
	Stale                    // before our base epoch
)

// Adopt checks that r follows the chain and stores it. A roster for
// an epoch the chain already holds that is a different, valid successor of
// the same predecessor is a fork: the one that Beats the other is kept, and
// every epoch after a replaced roster is dropped (its rosters, keys and send
// chain), since it followed the loser. chain is updated in place. lost, if
// not nil, is the replaced roster.
func Adopt(tx *storage.Txn, id group.ID, chain *Chain, r *group.Roster) (Adoption, *group.Roster, error) {
	if r.Group != id {
		return 0, nil, fmt.Errorf("%w: roster of another group", errs.ErrProtocol)
	}
	if r.Epoch < chain.Base {
		return Stale, nil, nil
	}
	if cur := chain.At(r.Epoch); cur != nil && cur.Hash() == r.Hash() {
		return Held, nil, nil
	}
	if r.Epoch == chain.Base {
		return Lost, nil, nil // our base came with the invitation we trust
	}
	if r.Epoch > chain.Latest().Epoch+1 {
		return Gap, nil, nil
	}
	if err := r.VerifyFollows(chain.At(r.Epoch - 1)); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	rb, err := r.MarshalBinary()
	if err != nil {
		return 0, nil, err
	}
	cur := chain.At(r.Epoch)
	if cur != nil {
		if !r.Beats(cur) {
			return Lost, nil, nil
		}
		if err := tx.DeleteGroupRostersFrom(storage.GroupID(id), r.Epoch); err != nil {
			return 0, nil, err
		}
		chain.Rosters = chain.Rosters[:r.Epoch-chain.Base]
	}
	if err := tx.PutGroupRoster(storage.GroupID(id), r.Epoch, rb); err != nil {
		return 0, nil, err
	}
	chain.Rosters = append(chain.Rosters, r)
	if cur != nil {
		return Switched, cur, nil
	}
	return Appended, nil, nil
}

// After encodes the chain's rosters after epoch, oldest first.
func (c *Chain) After(epoch uint64) ([][]byte, error) {
	var out [][]byte
	for _, r := range c.Rosters {
		if r.Epoch > epoch {
			b, err := r.MarshalBinary()
			if err != nil {
				return nil, err
			}
			out = append(out, b)
		}
	}
	return out, nil
}
