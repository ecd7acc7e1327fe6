package groups

import (
	"fmt"
	"maps"
	"slices"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/storage"
)

// ControlKind names a group control content: what groups send each other
// over their 1:1 sessions. Its encoding is the groupspb message of the same
// name; the 1:1 content carries it in the field of that kind.
type ControlKind int

// Group control contents.
const (
	ControlInvite  ControlKind = iota + 1 // groupspb.GroupInvite: an invitation
	ControlKey                            // groupspb.GroupKey: an epoch's key and roster
	ControlDecline                        // groupspb.GroupDecline: the invitee declined
	ControlLeave                          // groupspb.GroupLeave: a member left
	ControlRemoved                        // groupspb.GroupRemoved: the recipient was removed
)

// Control is a group control content that arrived over a 1:1 session.
type Control struct {
	Kind         ControlKind
	Data         []byte            // the encoded groupspb message
	ID           storage.MessageID // the 1:1 message that carried it
	SentUnixNano int64             // the sender's clock
}

// Inbound is the 1:1 receive transaction a control content arrived in: the
// 1:1 code implements it and calls HandleControl.
type Inbound interface {
	// Txn is the receive transaction; what HandleControl writes commits
	// with the 1:1 message, or not at all.
	Txn() *storage.Txn
	// Peer is the sender.
	Peer() peer.ID
	// Stranger reports whether the sender is not an accepted contact.
	Stranger() bool
	// Store stores a message in the sender's 1:1 thread under the
	// stranger rules (the inbox for a contact, requests for a stranger).
	Store(m storage.Message) error
	// Emit publishes e once the transaction has committed.
	Emit(e event.Event)
	// After runs f once the transaction has committed, outside the 1:1
	// locks.
	After(f func())
}

// Chats is what groups need of 1:1 chats to send control contents.
type Chats interface {
	// Queue puts a control content into to's outbox in tx: it is
	// encrypted and sent when to's session is ready, even after restarts.
	// Contents keep their order per peer.
	Queue(tx *storage.Txn, to peer.ID, kind ControlKind, data []byte) error
	// Kick, once tx has committed, makes the outbox deliver what was
	// queued for peers.
	Kick(peers []peer.ID)
}

// queued is a control content to put in a peer's outbox.
type queued struct {
	to   peer.ID
	kind ControlKind
	m    proto.Message
}

// queueControls queues control contents in tx and returns the peers to
// kick once it has committed.
func (s *Service) queueControls(tx *storage.Txn, qs []queued) (map[peer.ID]bool, error) {
	peers := map[peer.ID]bool{}
	for _, q := range qs {
		b, err := proto.Marshal(q.m)
		if err != nil {
			return nil, err
		}
		if err := s.chats.Queue(tx, q.to, q.kind, b); err != nil {
			return nil, err
		}
		peers[q.to] = true
	}
	return peers, nil
}

// kickOutbox makes the outbox deliver what queueControls queued.
func (s *Service) kickOutbox(peers map[peer.ID]bool) {
	if len(peers) > 0 {
		s.chats.Kick(slices.Collect(maps.Keys(peers)))
	}
}

// control is one control content being handled in a 1:1 receive
// transaction.
type control struct {
	s  *Service
	in Inbound
	tx *storage.Txn
	p  peer.ID
	pk keys.PublicKey
}

// HandleControl applies a group control content inside the 1:1 receive
// transaction in. A content that does not check out is dropped with a log
// line and no error (the sender's outbox would otherwise send it forever);
// an error means the transaction failed.
func (s *Service) HandleControl(in Inbound, c Control) error {
	pk, err := keys.PublicKeyFromPeerID(in.Peer())
	if err != nil {
		return fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	rc := &control{s: s, in: in, tx: in.Txn(), p: in.Peer(), pk: pk}
	switch c.Kind {
	case ControlInvite:
		var m groupspb.GroupInvite
		if err := proto.Unmarshal(c.Data, &m); err != nil {
			return rc.dropGroup("invite", err)
		}
		return rc.groupInvite(c, &m)
	case ControlKey:
		var m groupspb.GroupKey
		if err := proto.Unmarshal(c.Data, &m); err != nil {
			return rc.dropGroup("key", err)
		}
		return rc.groupKey(&m)
	case ControlDecline:
		var m groupspb.GroupDecline
		if err := proto.Unmarshal(c.Data, &m); err != nil {
			return rc.dropGroup("decline", err)
		}
		return rc.groupDecline(&m)
	case ControlLeave:
		var m groupspb.GroupLeave
		if err := proto.Unmarshal(c.Data, &m); err != nil {
			return rc.dropGroup("leave", err)
		}
		return rc.groupLeave(&m)
	case ControlRemoved:
		var m groupspb.GroupRemoved
		if err := proto.Unmarshal(c.Data, &m); err != nil {
			return rc.dropGroup("removal", err)
		}
		return rc.groupRemoved(&m)
	}
	return fmt.Errorf("%w: unknown group control content %d", errs.ErrProtocol, c.Kind)
}
