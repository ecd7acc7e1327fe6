package dm

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// sendControl encrypts a control content (receipt, profile, acceptance,
// typing) at once and queues it. Without a session there is nothing to send
// it on, and it is skipped: it only ever answers a peer who wrote first.
func (d *Service) sendControl(p peer.ID, c *dmpb.Content) error {
	id := NewMessageID()
	c.Id, c.SentUnixNano = id[:], time.Now().UnixNano()
	ps := d.peers.acquire(p)
	defer d.peers.release(ps)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	sent := false
	err := d.updateSessions(ps, p, func(tx *storage.Txn) error {
		sent = false
		if ps.cur == nil || !ps.cur.CanSend() {
			return nil
		}
		now := d.env.Clock.Now() // strictly increasing, as the outbox floor needs
		e := storage.OutboxEntry{ID: id, Peer: p, Created: now, NextTry: now}
		if err := d.sealEntry(tx, ps, &e, c, proof{}, true); err != nil {
			return err
		}
		sent = true
		return ps.save(tx, p)
	})
	if err != nil {
		return err
	}
	if sent {
		d.out.notify(p)
	}
	return nil
}

// SendProfile sends p this node's profile name.
func (d *Service) SendProfile(p peer.ID) error {
	return d.sendControl(p, &dmpb.Content{Body: &dmpb.Content_Profile{Profile: &dmpb.Profile{Name: d.cfg.Contacts.ProfileName()}}})
}

// SendAccepted tells p that its request was accepted.
func (d *Service) SendAccepted(p peer.ID) error {
	return d.sendControl(p, &dmpb.Content{Body: &dmpb.Content_RequestAccepted{RequestAccepted: &dmpb.RequestAccepted{}}})
}

// SendReadReceipts tells p that the messages ids were read.
func (d *Service) SendReadReceipts(p peer.ID, ids []storage.MessageID) error {
	rr := &dmpb.ReadReceipt{}
	for _, id := range ids {
		rr.Ids = append(rr.Ids, id[:])
	}
	return d.sendControl(p, &dmpb.Content{Body: &dmpb.Content_ReadReceipt{ReadReceipt: rr}})
}

// GroupKind names a group control content carried over 1:1.
type GroupKind int

// Group control contents.
const (
	GroupInvite GroupKind = iota + 1
	GroupKey
	GroupDecline
	GroupLeave
	GroupRemoved
)

// GroupControl is a group control content: its kind and the groups code's
// own encoding of it.
type GroupControl struct {
	Kind GroupKind
	Body []byte
}

// QueuedControl is a group control content for the outbox.
type QueuedControl struct {
	To peer.ID
	GroupControl
}

// groupControlOf returns c's group control, if it carries one.
func groupControlOf(c *dmpb.Content) (GroupControl, bool) {
	switch b := c.Body.(type) {
	case *dmpb.Content_GroupInvite:
		return GroupControl{GroupInvite, b.GroupInvite}, true
	case *dmpb.Content_GroupKey:
		return GroupControl{GroupKey, b.GroupKey}, true
	case *dmpb.Content_GroupDecline:
		return GroupControl{GroupDecline, b.GroupDecline}, true
	case *dmpb.Content_GroupLeave:
		return GroupControl{GroupLeave, b.GroupLeave}, true
	case *dmpb.Content_GroupRemoved:
		return GroupControl{GroupRemoved, b.GroupRemoved}, true
	}
	return GroupControl{}, false
}

func groupContent(c GroupControl) *dmpb.Content {
	switch c.Kind {
	case GroupInvite:
		return &dmpb.Content{Body: &dmpb.Content_GroupInvite{GroupInvite: c.Body}}
	case GroupKey:
		return &dmpb.Content{Body: &dmpb.Content_GroupKey{GroupKey: c.Body}}
	case GroupDecline:
		return &dmpb.Content{Body: &dmpb.Content_GroupDecline{GroupDecline: c.Body}}
	case GroupLeave:
		return &dmpb.Content{Body: &dmpb.Content_GroupLeave{GroupLeave: c.Body}}
	case GroupRemoved:
		return &dmpb.Content{Body: &dmpb.Content_GroupRemoved{GroupRemoved: c.Body}}
	}
	return nil
}

// QueueControls writes group control contents into the outbox in tx, each
// to be encrypted when its peer's session is ready, and returns the peers
// for KickOutbox. Contents keep their order per peer.
func (d *Service) QueueControls(tx *storage.Txn, qs []QueuedControl) (map[peer.ID]bool, error) {
	peers := map[peer.ID]bool{}
	for _, q := range qs {
		c := groupContent(q.GroupControl)
		if c == nil {
			continue
		}
		id := NewMessageID() // fresh: AddOutbox need not look for it
		c.Id, c.SentUnixNano = id[:], time.Now().UnixNano()
		b, err := proto.Marshal(c)
		if err != nil {
			return nil, err
		}
		now := d.env.Clock.Now()
		if err := tx.AddOutbox(storage.OutboxEntry{ID: id, Peer: q.To, Content: b, Created: now, NextTry: now}); err != nil {
			return nil, err
		}
		peers[q.To] = true
	}
	return peers, nil
}

// KickOutbox makes the outbox deliver what QueueControls queued: entries
// written outside the peers' locks may be older than the floor a busy
// deliverer is about to set, so the floor is reset; and sends are no longer
// encrypted as they are stored until the deliverer has encrypted them.
func (d *Service) KickOutbox(peers map[peer.ID]bool) {
	for p := range peers {
		ps := d.peers.acquire(p)
		ps.mu.Lock()
		ps.outboxFloor, ps.floorReset = time.Time{}, true
		ps.sealOK = false // the deliverer encrypts what was queued first
		ps.mu.Unlock()
		d.peers.release(ps)
		d.out.notify(p)
	}
}
