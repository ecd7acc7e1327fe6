package groups

import (
	"errors"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/groups/content"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/node/internal/naming"
	"github.com/backchannel/backchannel/storage"
)

// Names in a group. Each member tells the group its profile name, sealed
// like every group message (groupspb.GroupProfile): when it joins, in every
// epoch it enters (a member added later cannot read the epochs before) and
// when the name changes. Outsiders learn nothing; members learn each
// other's names. A member is shown by the rule rooms use too
// (node/internal/naming): we are "you", an accepted contact goes by our
// name for them with its verification, anyone else by the name it
// announced, marked with the end of its peer ID when a member, a contact or
// we go by the same name, else by the end of its peer ID.

// youDisplay is how this node shows itself among a group's members.
const youDisplay = "you"

// profileName is the name we announce in groups: the profile name.
func (s *Service) profileName() string {
	if s.cfg.ProfileName == nil {
		return ""
	}
	return s.cfg.ProfileName()
}

// ProfileChanged tells the joined groups that our profile name changed:
// each announces it in its newest epoch, from its own goroutine.
func (s *Service) ProfileChanged() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, lg := range s.live {
		poke(lg.announce)
	}
}

// announceName tells the group our profile name in its newest epoch, unless
// we have none or told it there already. The group's announce loop runs it
// when the group goes live, when its rosters or keys change (a new epoch)
// and when the name changes.
func (s *Service) announceName(lg *liveGroup) {
	name := s.profileName()
	if name == "" || content.CheckProfileName(name) != nil {
		return
	}
	gc := &groupspb.GroupContent{Body: &groupspb.GroupContent_Profile{Profile: &groupspb.GroupProfile{Name: name}}}
	f, _, sealed, err := s.sealGroupWhen(lg, gc, func(tx *storage.Txn, g storage.Group, epoch uint64) (bool, error) {
		// No send chain of the epoch: we said nothing in it yet, or its
		// roster lost a fork (the loser's chain went), so what we told
		// under our old key is lost to the members who switched.
		if _, err := tx.GroupSendChain(g.ID, epoch); errors.Is(err, storage.ErrNotFound) {
			return true, nil
		} else if err != nil {
			return false, err
		}
		told, err := tx.GroupMemberName(g.ID, s.selfID())
		if errors.Is(err, storage.ErrNotFound) {
			return true, nil
		}
		return err == nil && (told.Epoch != epoch || told.Name != name), err
	})
	switch {
	case errors.Is(err, errs.ErrKeyPending) || errors.Is(err, errs.ErrInvalidGroup):
		// The key's arrival pokes again; a group we are no longer in
		// hears nothing more from us.
	case err != nil:
		s.log.Warn("group: our name not announced", "group", lg.id, "err", err)
	case sealed:
		lg.pub.Enqueue(f)
	}
}

// namer shows the members and authors of one group at one moment.
type namer struct {
	*naming.Namer
	self   peer.ID
	myName string
	latest *group.Roster
	names  map[peer.ID]string // announced by members of the newest roster
}

// newNamer gathers, in tx, our contacts and the names the members of the
// newest roster announced; a former member's name is not shown.
func (s *Service) newNamer(tx *storage.Txn, g storage.Group, latest *group.Roster) (*namer, error) {
	n := &namer{self: s.selfID(), myName: s.profileName(), latest: latest, names: map[peer.ID]string{}}
	var err error
	if n.Namer, err = naming.New(tx, n.self, youDisplay, n.myName); err != nil {
		return nil, err
	}
	told, err := tx.GroupMemberNames(g.ID)
	if err != nil {
		return nil, err
	}
	for _, t := range told {
		if t.Member == n.self || n.role(t.Member) == group.RoleNone {
			continue
		}
		n.names[t.Member] = t.Name
		n.Claim(t.Name, t.Member)
	}
	return n, nil
}

func (n *namer) role(p peer.ID) group.Role {
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return group.RoleNone
	}
	return n.latest.Role(pk)
}

// member is how the group shows p.
func (n *namer) member(p peer.ID) Member {
	name := n.names[p]
	if p == n.self {
		name = n.myName
	}
	x := n.Person(p, name)
	return Member{Peer: p, Role: n.role(p), Name: x.Name, Display: x.Display, Contact: x.Contact, Verified: x.Verified, Me: x.Me}
}

// groupNamer makes the namer of group g, from its newest roster.
func (s *Service) groupNamer(tx *storage.Txn, g storage.Group) (*namer, error) {
	chain, err := rosterchain.Load(tx, g)
	if err != nil {
		return nil, err
	}
	return s.newNamer(tx, g, chain.Latest())
}
