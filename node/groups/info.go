package groups

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/storage"
)

// maxUnreadCount bounds how many of a group's newest messages count as
// unread.
const maxUnreadCount = 1000

func sid(id group.ID) storage.GroupID { return storage.GroupID(id) }

// ResolveGroup turns a group ID (hex) or the exact name of a known group
// into its ID.
func (s *Service) ResolveGroup(ref string) (group.ID, error) {
	if id, err := group.ParseID(ref); err == nil {
		return id, nil
	}
	var g storage.Group
	err := s.store.View(func(tx *storage.Txn) error {
		var err error
		g, err = tx.GroupByName(ref)
		return err
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return group.ID{}, fmt.Errorf("%w: no group named %q", errs.ErrNotFound, ref)
	case errors.Is(err, storage.ErrAmbiguous):
		return group.ID{}, fmt.Errorf("%w: more than one group is named %q: use its ID", errs.ErrInvalidGroup, ref)
	case err != nil:
		return group.ID{}, err
	}
	return group.ID(g.ID), nil
}

// Groups lists the groups this node knows: joined, invited to, left.
func (s *Service) Groups() ([]Info, error) {
	var out []Info
	err := s.store.View(func(tx *storage.Txn) error {
		gs, err := tx.Groups()
		if err != nil {
			return err
		}
		for _, g := range gs {
			info, err := s.groupInfo(tx, g)
			if err != nil {
				return err
			}
			out = append(out, info)
		}
		return nil
	})
	return out, err
}

// Group describes one group.
func (s *Service) Group(id group.ID) (Info, error) {
	var info Info
	err := s.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		info, err = s.groupInfo(tx, g)
		return err
	})
	return info, err
}

func getGroup(tx *storage.Txn, id group.ID) (storage.Group, error) {
	g, err := tx.Group(sid(id))
	if errors.Is(err, storage.ErrNotFound) {
		return g, fmt.Errorf("%w: group %s", errs.ErrNotFound, id)
	}
	return g, err
}

// viewChain runs fn, in a read transaction, on a group's roster chain,
// whatever the node's state in the group.
func (s *Service) viewChain(id group.ID, fn func(chain *rosterchain.Chain)) error {
	return s.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		chain, err := rosterchain.Load(tx, g)
		if err != nil {
			return err
		}
		fn(chain)
		return nil
	})
}

// joinedChain reads a group and its roster chain in tx; joined is false
// (and nothing else set) when the node is not in the group now.
func joinedChain(tx *storage.Txn, id group.ID) (g storage.Group, chain *rosterchain.Chain, joined bool, err error) {
	if g, err = getGroup(tx, id); err != nil || g.State != storage.GroupJoined {
		return g, nil, false, err
	}
	chain, err = rosterchain.Load(tx, g)
	return g, chain, err == nil, err
}

func (s *Service) groupInfo(tx *storage.Txn, g storage.Group) (Info, error) {
	info := Info{ID: group.ID(g.ID), Name: g.Name, State: g.State, Inviter: g.Inviter}
	chain, err := rosterchain.Load(tx, g)
	if err != nil {
		return Info{}, err
	}
	latest := chain.Latest()
	info.Epoch, info.Members, info.Role = latest.Epoch, len(latest.Members), latest.Role(s.self())
	if g.State == storage.GroupJoined || g.State == storage.GroupInvited {
		if _, err := tx.GroupEpochKey(g.ID, latest.Epoch); errors.Is(err, storage.ErrNotFound) {
			info.KeyWaited = true
		} else if err != nil {
			return Info{}, err
		}
	}
	ms, err := tx.GroupMessages(g.ID, maxUnreadCount, time.Time{})
	if err != nil {
		return Info{}, err
	}
	for _, m := range ms {
		if !m.Sent.After(g.LastRead) {
			break
		}
		if !m.Outbound {
			info.Unread++
		}
	}
	return info, nil
}

// GroupMembers lists the members of a group's newest roster, owner first,
// then admins, then members, each as this node shows it (see Member).
func (s *Service) GroupMembers(id group.ID) ([]Member, error) {
	var out []Member
	err := s.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		n, err := s.groupNamer(tx, g)
		if err != nil {
			return err
		}
		for _, m := range n.latest.Members {
			out = append(out, n.member(m.Key.PeerID()))
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b Member) int { return int(a.Role) - int(b.Role) })
	return out, err
}

// MemberPeers lists the peers of a group's newest roster: GroupMembers
// without the names, for the peer book.
func (s *Service) MemberPeers(id group.ID) ([]peer.ID, error) {
	var out []peer.ID
	err := s.viewChain(id, func(chain *rosterchain.Chain) {
		for _, m := range chain.Latest().Members {
			out = append(out, m.Key.PeerID())
		}
	})
	return out, err
}

func peerKey(p peer.ID) (keys.PublicKey, error) {
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("%w: %w", errs.ErrUnknownPeer, err)
	}
	return pk, nil
}
