package node

import (
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// Groups use 1:1 sessions to carry their control contents (invitations,
// epoch keys, declines, leaves, removals). The 1:1 service carries them as
// opaque bytes; the groups code encodes and decodes them here.

// groupControl is the 1:1 service's dm.GroupHandler: a group control
// content, inside the receive transaction. Its bytes are one of our
// messages; ones that do not decode break the protocol, as they did when
// they were part of the 1:1 content.
func (n *Node) groupControl(rc dm.Receipt, id storage.MessageID, sent time.Time, c dm.GroupControl) error {
	var m proto.Message
	switch c.Kind {
	case dm.GroupInvite:
		m = &dmpb.GroupInvite{}
	case dm.GroupKey:
		m = &dmpb.GroupKey{}
	case dm.GroupDecline:
		m = &dmpb.GroupDecline{}
	case dm.GroupLeave:
		m = &dmpb.GroupLeave{}
	case dm.GroupRemoved:
		m = &dmpb.GroupRemoved{}
	default:
		return fmt.Errorf("%w: unknown group control %d", ErrProtocol, c.Kind)
	}
	if err := proto.Unmarshal(c.Body, m); err != nil {
		return fmt.Errorf("%w: content: %w", ErrProtocol, err)
	}
	switch m := m.(type) {
	case *dmpb.GroupInvite:
		return n.groupInvite(rc, id, sent, m)
	case *dmpb.GroupKey:
		return n.groupKey(rc, m)
	case *dmpb.GroupDecline:
		return n.groupDecline(rc, m)
	case *dmpb.GroupLeave:
		return n.groupLeave(rc, m)
	default:
		return n.groupRemoved(rc, m.(*dmpb.GroupRemoved))
	}
}

// queued is a control content to put in a peer's outbox: a dmpb.Content
// whose body is one of the group controls.
type queued struct {
	to peer.ID
	c  *dmpb.Content
}

// groupControlOf encodes a content's group control for the 1:1 service.
func groupControlOf(c *dmpb.Content) (dm.GroupControl, error) {
	var kind dm.GroupKind
	var m proto.Message
	switch b := c.Body.(type) {
	case *dmpb.Content_GroupInvite:
		kind, m = dm.GroupInvite, b.GroupInvite
	case *dmpb.Content_GroupKey:
		kind, m = dm.GroupKey, b.GroupKey
	case *dmpb.Content_GroupDecline:
		kind, m = dm.GroupDecline, b.GroupDecline
	case *dmpb.Content_GroupLeave:
		kind, m = dm.GroupLeave, b.GroupLeave
	case *dmpb.Content_GroupRemoved:
		kind, m = dm.GroupRemoved, b.GroupRemoved
	default:
		return dm.GroupControl{}, fmt.Errorf("not a group control: %T", c.Body)
	}
	body, err := proto.Marshal(m)
	return dm.GroupControl{Kind: kind, Body: body}, err
}

// queueControls writes control contents into the outbox in tx, each to be
// encrypted when its peer's session is ready, and returns the peers for
// kickOutbox. Contents keep their order per peer.
func (n *Node) queueControls(tx *storage.Txn, qs []queued) (map[peer.ID]bool, error) {
	cs := make([]dm.QueuedControl, len(qs))
	for i, q := range qs {
		gc, err := groupControlOf(q.c)
		if err != nil {
			return nil, err
		}
		cs[i] = dm.QueuedControl{To: q.to, GroupControl: gc}
	}
	return n.dm.QueueControls(tx, cs)
}

// kickOutbox makes the outbox deliver what queueControls queued.
func (n *Node) kickOutbox(peers map[peer.ID]bool) { n.dm.KickOutbox(peers) }
