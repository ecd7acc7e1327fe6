package node

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/storage"
)

// maxGroupName bounds a group's name.
const maxGroupName = 100

// Group message kinds, as stored and shown. Reactions and RSVPs are not
// lines of the thread: they hang on their target (GroupMessage.Reactions,
// GroupMessage.RSVPs).
const (
	KindEvent  = "event"  // an event with a title and a start time; members RSVP
	KindRSVP   = "rsvp"   // yes, no or maybe to an event
	KindRename = "rename" // an owner or admin renamed the group
	KindLeft   = "left"   // a member left the group
)

// RSVP answers.
const (
	RSVPYes   = "yes"
	RSVPNo    = "no"
	RSVPMaybe = "maybe"
)

// GroupInfo describes a group to the user.
type GroupInfo struct {
	ID        group.ID
	Name      string
	State     storage.GroupState
	Epoch     uint64     // the newest epoch this node knows
	Role      group.Role // this node's role in that epoch
	Members   int
	Inviter   peer.ID // who invited this node; empty for the group's creator
	Unread    int
	KeyWaited bool // the newest epoch's key has not arrived yet
}

// GroupMember is one member of a group's newest roster.
type GroupMember struct {
	Peer peer.ID
	Role group.Role
	Name string // the contact's name or profile name, if a contact
}

// groups holds the joined groups and a lock per group.
type groups struct {
	mu    sync.Mutex
	live  map[group.ID]*liveGroup
	locks map[group.ID]*sync.Mutex
}

func newGroups() *groups {
	return &groups{live: map[group.ID]*liveGroup{}, locks: map[group.ID]*sync.Mutex{}}
}

// lock returns the group's lock: it serialises every change of a group's
// rosters, keys and chains on this node. Lock order: a peer's session lock
// (peerState.mu) may be held when taking it, never the other way round.
func (g *groups) lock(id group.ID) *sync.Mutex {
	g.mu.Lock()
	defer g.mu.Unlock()
	l, ok := g.locks[id]
	if !ok {
		l = &sync.Mutex{}
		g.locks[id] = l
	}
	return l
}

func (g *groups) get(id group.ID) (*liveGroup, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	lg, ok := g.live[id]
	return lg, ok
}

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

func sid(id group.ID) storage.GroupID { return storage.GroupID(id) }

// ResolveGroup turns a group ID (hex) or the exact name of a known group
// into its ID.
func (n *Node) ResolveGroup(ref string) (group.ID, error) {
	if id, err := group.ParseID(ref); err == nil {
		return id, nil
	}
	var g storage.Group
	err := n.store.View(func(tx *storage.Txn) error {
		var err error
		g, err = tx.GroupByName(ref)
		return err
	})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return group.ID{}, fmt.Errorf("%w: no group named %q", ErrNotFound, ref)
	case errors.Is(err, storage.ErrAmbiguous):
		return group.ID{}, fmt.Errorf("%w: more than one group is named %q: use its ID", ErrInvalidGroup, ref)
	case err != nil:
		return group.ID{}, err
	}
	return group.ID(g.ID), nil
}

// Groups lists the groups this node knows: joined, invited to, left.
func (n *Node) Groups() ([]GroupInfo, error) {
	var out []GroupInfo
	err := n.store.View(func(tx *storage.Txn) error {
		gs, err := tx.Groups()
		if err != nil {
			return err
		}
		for _, g := range gs {
			info, err := n.groupInfo(tx, g)
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
func (n *Node) Group(id group.ID) (GroupInfo, error) {
	var info GroupInfo
	err := n.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		info, err = n.groupInfo(tx, g)
		return err
	})
	return info, err
}

func getGroup(tx *storage.Txn, id group.ID) (storage.Group, error) {
	g, err := tx.Group(sid(id))
	if errors.Is(err, storage.ErrNotFound) {
		return g, fmt.Errorf("%w: group %s", ErrNotFound, id)
	}
	return g, err
}

func (n *Node) groupInfo(tx *storage.Txn, g storage.Group) (GroupInfo, error) {
	info := GroupInfo{ID: group.ID(g.ID), Name: g.Name, State: g.State, Inviter: g.Inviter}
	chain, err := loadChain(tx, g)
	if err != nil {
		return GroupInfo{}, err
	}
	latest := chain.latest()
	info.Epoch, info.Members, info.Role = latest.Epoch, len(latest.Members), latest.Role(n.self())
	if g.State == storage.GroupJoined || g.State == storage.GroupInvited {
		if _, err := tx.GroupEpochKey(g.ID, latest.Epoch); errors.Is(err, storage.ErrNotFound) {
			info.KeyWaited = true
		} else if err != nil {
			return GroupInfo{}, err
		}
	}
	ms, err := tx.GroupMessages(g.ID, maxUnreadScan, time.Time{})
	if err != nil {
		return GroupInfo{}, err
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
// then admins, then members.
func (n *Node) GroupMembers(id group.ID) ([]GroupMember, error) {
	var out []GroupMember
	err := n.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		chain, err := loadChain(tx, g)
		if err != nil {
			return err
		}
		for _, m := range chain.latest().Members {
			gm := GroupMember{Peer: m.Key.PeerID(), Role: m.Role}
			if c, err := tx.Contact(gm.Peer); err == nil {
				gm.Name = c.Name
				if gm.Name == "" {
					gm.Name = c.ProfileName
				}
			}
			out = append(out, gm)
		}
		return nil
	})
	slices.SortStableFunc(out, func(a, b GroupMember) int { return int(a.Role) - int(b.Role) })
	return out, err
}

func (n *Node) self() keys.PublicKey { return n.id.Public().Key }

func checkGroupName(name string) error {
	if name == "" || len(name) > maxGroupName || !utf8.ValidString(name) {
		return fmt.Errorf("%w: a group name is 1 to %d bytes of UTF-8", ErrInvalidGroup, maxGroupName)
	}
	return nil
}

func peerKey(p peer.ID) (keys.PublicKey, error) {
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return keys.PublicKey{}, fmt.Errorf("%w: %w", ErrUnknownPeer, err)
	}
	return pk, nil
}
