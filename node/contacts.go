package node

import (
	"context"

	"github.com/libp2p/go-libp2p/core/peer"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/storage"
)

// AddContact adds (or updates) an accepted contact from an invite link or a
// bare peer ID, with an optional local name.
func (n *Node) AddContact(ctx context.Context, invite, name string) (storage.Contact, error) {
	c, err := n.contacts.Add(ctx, invite, name)
	if err == nil {
		n.rememberInviteRelays(invite)
		if inv, perr := contacts.ParseInvite(invite); perr == nil && len(inv.Mailboxes) > 0 {
			if err := n.mailbox.LearnInvite(inv.Peer, inv.Mailboxes); err != nil {
				n.log.Info("invite's mailbox list ignored", "peer", inv.Peer, "err", err)
			}
		}
		n.pushMailboxes(c.Peer)
	}
	return c, err
}

// rememberInviteRelays remembers the relays an invite's circuit addresses
// go through (the inviter's helpers): a node behind a NAT reserves a slot
// on the relays it knows.
func (n *Node) rememberInviteRelays(invite string) {
	inv, err := contacts.ParseInvite(invite)
	if err != nil {
		return
	}
	for _, a := range inv.Addrs {
		relay, _ := ma.SplitFunc(a, func(c ma.Component) bool { return c.Protocol().Code == ma.P_CIRCUIT })
		if len(relay) == 0 || len(relay) == len(a) {
			continue // not a circuit address
		}
		if ai, err := peer.AddrInfoFromP2pAddr(relay); err == nil {
			n.book.RememberRelay(ai.ID, ai.Addrs)
		}
	}
}

// Contacts lists every contact: accepted, strangers with a request, blocked.
func (n *Node) Contacts() ([]storage.Contact, error) { return n.contacts.List() }

// ResolvePeer turns a contact's name or a peer ID into a peer ID.
func (n *Node) ResolvePeer(nameOrID string) (peer.ID, error) { return n.contacts.Resolve(nameOrID) }

// Block drops the peer's thread and every later message from it (still
// acked, so the peer learns nothing).
func (n *Node) Block(p peer.ID) error { return n.contacts.Block(p) }

// Unblock makes a blocked peer a stranger again: its next message is a request.
func (n *Node) Unblock(p peer.ID) error { return n.contacts.Unblock(p) }

// SafetyNumber returns the 60-digit safety number of this node and p.
func (n *Node) SafetyNumber(p peer.ID) (string, error) { return n.contacts.SafetyNumber(p) }

// SetVerified records whether the user compared the safety number with p.
func (n *Node) SetVerified(p peer.ID, verified bool) error {
	return n.contacts.SetVerified(p, verified)
}

// SetProfileName sets the display name shared with accepted contacts, with
// the rooms that take it and with the members of the groups we are in.
// Contacts who have answered us get the new name at once; the rooms and the
// groups are told from their own goroutines.
func (n *Node) SetProfileName(name string) error {
	if err := n.contacts.SetProfileName(name); err != nil {
		return err
	}
	if err := n.dm.SendProfileToAll(); err != nil {
		n.log.Warn("profile not sent to every contact", "err", err)
	}
	n.rooms.ProfileChanged()
	n.groups.ProfileChanged()
	return nil
}

// NewInvite returns this node's invite link; with oneTime it carries a fresh
// token, valid once, that lets its first user skip the stamp.
func (n *Node) NewInvite(oneTime bool) (string, error) { return n.contacts.NewInvite(oneTime) }
