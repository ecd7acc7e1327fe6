package node

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/safety"
	"github.com/backchannel/backchannel/storage"
)

// loadContactAddrs gives the peerstore the addresses of every known contact.
func (n *Node) loadContactAddrs() error {
	var cs []storage.Contact
	err := n.store.View(func(tx *storage.Txn) error {
		var err error
		cs, err = tx.Contacts()
		return err
	})
	if err != nil {
		return fmt.Errorf("node: contacts: %w", err)
	}
	for _, c := range cs {
		n.net.AddAddrs(c.Peer, c.Addrs)
	}
	return nil
}

// AddContact adds (or updates) an accepted contact from an invite link or a
// bare peer ID, with an optional local name.
func (n *Node) AddContact(_ context.Context, invite, name string) (storage.Contact, error) {
	inv, err := ParseInvite(invite)
	if err != nil {
		return storage.Contact{}, err
	}
	if inv.Peer == n.ID() {
		return storage.Contact{}, ErrSelf
	}
	if _, err := keys.PublicKeyFromPeerID(inv.Peer); err != nil {
		return storage.Contact{}, fmt.Errorf("%w: %w", ErrInvalidInvite, err)
	}
	if len(name) > maxProfileName {
		return storage.Contact{}, fmt.Errorf("%w: name longer than %d bytes", ErrTooLarge, maxProfileName)
	}
	var c storage.Contact
	err = n.store.Update(func(tx *storage.Txn) error {
		var err error
		c, err = tx.Contact(inv.Peer)
		now := time.Now().UTC()
		if errors.Is(err, storage.ErrNotFound) {
			c = storage.Contact{Peer: inv.Peer, Created: now}
		} else if err != nil {
			return err
		}
		if c.State == storage.ContactBlocked {
			return fmt.Errorf("%w: unblock it first", ErrBlocked)
		}
		c.State = storage.ContactAccepted
		if name != "" {
			c.Name = name
		} else if c.Name == "" {
			c.Name = inv.Name
		}
		for _, a := range inv.Addrs {
			c.Addrs = appendUnique(c.Addrs, a.String())
		}
		c.Updated = now
		if inv.Token != "" {
			if err := tx.PutSetting(tokenForKey(inv.Peer), []byte(inv.Token)); err != nil {
				return err
			}
		}
		return tx.PutContact(c)
	})
	if err != nil {
		return storage.Contact{}, err
	}
	n.net.AddAddrs(c.Peer, c.Addrs)
	n.bus.Publish(Event{Type: EventContact, Peer: c.Peer, Contact: &c})
	return c, nil
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// Contacts lists every contact: accepted, strangers with a request, blocked.
func (n *Node) Contacts() ([]storage.Contact, error) {
	var cs []storage.Contact
	err := n.store.View(func(tx *storage.Txn) error {
		var err error
		cs, err = tx.Contacts()
		return err
	})
	return cs, err
}

// ResolvePeer turns a contact's name or a peer ID into a peer ID.
func (n *Node) ResolvePeer(nameOrID string) (peer.ID, error) {
	if id, err := peer.Decode(nameOrID); err == nil {
		return id, nil
	}
	var c storage.Contact
	err := n.store.View(func(tx *storage.Txn) error {
		var err error
		c, err = tx.ContactByName(nameOrID)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return "", fmt.Errorf("%w: no contact named %q", ErrUnknownPeer, nameOrID)
	}
	if errors.Is(err, storage.ErrAmbiguous) {
		return "", fmt.Errorf("%w: more than one contact is named %q: use the peer ID", ErrUnknownPeer, nameOrID)
	}
	return c.Peer, err
}

// setState changes a contact's state, creating the record if needed.
func (n *Node) setState(p peer.ID, s storage.ContactState, deleteThread bool) error {
	if p == n.ID() {
		return ErrSelf
	}
	var c storage.Contact
	err := n.store.Update(func(tx *storage.Txn) error {
		var err error
		c, err = tx.Contact(p)
		now := time.Now().UTC()
		if errors.Is(err, storage.ErrNotFound) {
			c = storage.Contact{Peer: p, Created: now}
		} else if err != nil {
			return err
		}
		c.State, c.Updated = s, now
		if deleteThread {
			if err := tx.DeleteConversation(p); err != nil {
				return err
			}
		}
		return tx.PutContact(c)
	})
	if err == nil {
		n.bus.Publish(Event{Type: EventContact, Peer: p, Contact: &c})
	}
	return err
}

// Block drops the peer's thread and every later message from it (still
// acked, so the peer learns nothing).
func (n *Node) Block(p peer.ID) error { return n.setState(p, storage.ContactBlocked, true) }

// Unblock makes a blocked peer a stranger again: its next message is a request.
func (n *Node) Unblock(p peer.ID) error {
	var blocked bool
	err := n.store.View(func(tx *storage.Txn) error {
		c, err := tx.Contact(p)
		blocked = err == nil && c.State == storage.ContactBlocked
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %s", ErrUnknownPeer, p)
		}
		return err
	})
	if err != nil {
		return err
	}
	if !blocked {
		return nil
	}
	return n.store.Update(func(tx *storage.Txn) error { return tx.DeleteContact(p) })
}

// SafetyNumber returns the 60-digit safety number of this node and p.
func (n *Node) SafetyNumber(p peer.ID) (string, error) {
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrUnknownPeer, err)
	}
	sn, err := safety.Number(n.id.Public().Key, pk)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrSelf, err)
	}
	return sn.String(), nil
}

// SetVerified records whether the user compared the safety number with p.
func (n *Node) SetVerified(p peer.ID, verified bool) error {
	return n.store.Update(func(tx *storage.Txn) error {
		c, err := tx.Contact(p)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %s is not a contact", ErrUnknownPeer, p)
		}
		if err != nil {
			return err
		}
		c.Verified, c.Updated = verified, time.Now().UTC()
		return tx.PutContact(c)
	})
}
