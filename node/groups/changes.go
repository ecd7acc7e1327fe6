package groups

import (
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
)

// Change is how one epoch's roster differs from the one before it: who
// was added, who is gone (removed, or left and was signed out), who became
// an admin and who stopped being one. Signer signed the new roster.
type Change struct {
	Epoch                            uint64
	Signer                           peer.ID
	Added, Removed, Admins, NotAdmin []peer.ID
}

// GroupChanges lists the roster changes of the epochs this node holds,
// oldest first; an epoch that changed no one (a rekey) is left out. The
// timeline places a change before the first message of its epoch.
func (s *Service) GroupChanges(id group.ID) ([]Change, error) {
	var out []Change
	err := s.viewChain(id, func(chain *rosterchain.Chain) {
		for i := 1; i < len(chain.Rosters); i++ {
			if c := diffRosters(chain.Rosters[i-1], chain.Rosters[i]); c != nil {
				out = append(out, *c)
			}
		}
	})
	return out, err
}

// diffRosters is the change from prev to next, nil if none.
func diffRosters(prev, next *group.Roster) *Change {
	roles := make(map[peer.ID]group.Role, len(prev.Members))
	for _, m := range prev.Members {
		roles[m.Key.PeerID()] = m.Role
	}
	c := Change{Epoch: next.Epoch, Signer: next.Signer.PeerID()}
	for _, m := range next.Members {
		p := m.Key.PeerID()
		was, ok := roles[p]
		delete(roles, p)
		switch {
		case !ok:
			c.Added = append(c.Added, p)
		case was != group.RoleAdmin && m.Role == group.RoleAdmin:
			c.Admins = append(c.Admins, p)
		case was == group.RoleAdmin && m.Role == group.RoleMember:
			c.NotAdmin = append(c.NotAdmin, p)
		}
	}
	for _, m := range prev.Members { // in roster order, not map order
		if _, gone := roles[m.Key.PeerID()]; gone {
			c.Removed = append(c.Removed, m.Key.PeerID())
		}
	}
	if c.Added == nil && c.Removed == nil && c.Admins == nil && c.NotAdmin == nil {
		return nil
	}
	return &c
}
