package contacts

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/storage"
)

// Service keeps the node's contacts. It starts no goroutines: there is
// nothing to start or close.
type Service struct {
	env env.Env
	// mailboxes gives invites the node's mailbox list (SetInviteMailboxes);
	// set once, before the node starts.
	mailboxes func(token string) []byte
}

// New returns the contacts service of the node e describes.
func New(e env.Env) *Service { return &Service{env: e} }

// LoadAddrs gives the peerstore the addresses of every known contact.
func (s *Service) LoadAddrs() error {
	cs, err := s.List()
	if err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	for _, c := range cs {
		s.env.Net.AddAddrs(c.Peer, c.Addrs)
	}
	return nil
}

// Add adds (or updates) an accepted contact from an invite link or a bare
// peer ID, with an optional local name.
func (s *Service) Add(_ context.Context, invite, name string) (storage.Contact, error) {
	inv, err := ParseInvite(invite)
	if err != nil {
		return storage.Contact{}, err
	}
	if inv.Peer == s.env.Net.Host().ID() {
		return storage.Contact{}, errs.ErrSelf
	}
	if _, err := keys.PublicKeyFromPeerID(inv.Peer); err != nil {
		return storage.Contact{}, fmt.Errorf("%w: %w", errs.ErrInvalidInvite, err)
	}
	if err := CheckName(name); err != nil {
		return storage.Contact{}, err
	}
	var c storage.Contact
	err = s.env.Store.Update(func(tx *storage.Txn) error {
		var err error
		c, err = tx.Contact(inv.Peer)
		now := time.Now().UTC()
		if errors.Is(err, storage.ErrNotFound) {
			c = storage.Contact{Peer: inv.Peer, Created: now}
		} else if err != nil {
			return err
		}
		if c.State == storage.ContactBlocked {
			return fmt.Errorf("%w: unblock it first", errs.ErrBlocked)
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
			if err := tx.PutSetting(TokenForKey(inv.Peer), []byte(inv.Token)); err != nil {
				return err
			}
		}
		return tx.PutContact(c)
	})
	if err != nil {
		return storage.Contact{}, err
	}
	s.env.Net.AddAddrs(c.Peer, c.Addrs)
	s.env.Bus.Publish(event.Event{Type: event.Contact, Peer: c.Peer, Contact: &c})
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

// List lists every contact: accepted, strangers with a request, blocked.
func (s *Service) List() ([]storage.Contact, error) {
	var cs []storage.Contact
	err := s.env.Store.View(func(tx *storage.Txn) error {
		var err error
		cs, err = tx.Contacts()
		return err
	})
	return cs, err
}

// Resolve turns a contact's name or a peer ID into a peer ID.
func (s *Service) Resolve(nameOrID string) (peer.ID, error) {
	if id, err := peer.Decode(nameOrID); err == nil {
		return id, nil
	}
	var c storage.Contact
	err := s.env.Store.View(func(tx *storage.Txn) error {
		var err error
		c, err = tx.ContactByName(nameOrID)
		return err
	})
	if errors.Is(err, storage.ErrNotFound) {
		return "", fmt.Errorf("%w: no contact named %q", errs.ErrUnknownPeer, nameOrID)
	}
	if errors.Is(err, storage.ErrAmbiguous) {
		return "", fmt.Errorf("%w: more than one contact is named %q: use the peer ID", errs.ErrUnknownPeer, nameOrID)
	}
	return c.Peer, err
}

// State returns p's contact state; errs.ErrUnknownPeer if p has no record.
func (s *Service) State(p peer.ID) (storage.ContactState, error) {
	var st storage.ContactState
	err := s.env.Store.View(func(tx *storage.Txn) error {
		c, err := tx.Contact(p)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %s", errs.ErrUnknownPeer, p)
		}
		st = c.State
		return err
	})
	return st, err
}

// SetState changes a contact's state, creating the record if needed, and
// with deleteThread drops the conversation in the same transaction.
func (s *Service) SetState(p peer.ID, st storage.ContactState, deleteThread bool) error {
	if p == s.env.Net.Host().ID() {
		return errs.ErrSelf
	}
	var c storage.Contact
	err := s.env.Store.Update(func(tx *storage.Txn) error {
		var err error
		c, err = tx.Contact(p)
		now := time.Now().UTC()
		if errors.Is(err, storage.ErrNotFound) {
			c = storage.Contact{Peer: p, Created: now}
		} else if err != nil {
			return err
		}
		if st == storage.ContactBlocked && c.State != storage.ContactBlocked {
			// The peer must not tell a block from a request left
			// pending: its thread's count carries on (BlockedDropsKey).
			n, err := tx.CountMessages(p)
			if err != nil {
				return err
			}
			if err := tx.PutSetting(BlockedDropsKey(p), EncodeBlockedDrops(n, nil)); err != nil {
				return err
			}
		}
		c.State, c.Updated = st, now
		if deleteThread {
			if err := tx.DeleteConversation(p); err != nil {
				return err
			}
		}
		return tx.PutContact(c)
	})
	if err == nil {
		s.env.Bus.Publish(event.Event{Type: event.Contact, Peer: p, Contact: &c})
	}
	return err
}

// Block drops the peer's thread and every later message from it. The peer
// is answered as a stranger whose request stays pending would be (acked
// until the thread would be full, then asked to retry later), so it cannot
// tell it is blocked.
func (s *Service) Block(p peer.ID) error { return s.SetState(p, storage.ContactBlocked, true) }

// Unblock makes a blocked peer a stranger again: its next message is a request.
func (s *Service) Unblock(p peer.ID) error {
	st, err := s.State(p)
	if err != nil || st != storage.ContactBlocked {
		return err
	}
	return s.env.Store.Update(func(tx *storage.Txn) error {
		if err := tx.DeleteSetting(BlockedDropsKey(p)); err != nil {
			return err
		}
		return tx.DeleteContact(p)
	})
}

// BlockedDropsKey is the setting that stands, for a blocked peer, for the
// request thread it would have if it were a stranger left pending: how many
// messages that thread held when the peer was blocked, and the IDs of the
// ones dropped since (so a resent one is acked as a duplicate). The 1:1
// receiver counts them against the stranger caps as if they were stored;
// those caps bound its size.
func BlockedDropsKey(p peer.ID) string { return "blocked-drops/" + p.String() }

// EncodeBlockedDrops encodes a BlockedDropsKey value: the count at block
// time, then 16-byte message IDs.
func EncodeBlockedDrops(before int, ids []storage.MessageID) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(min(max(before, 0), math.MaxUint32)))
	for _, id := range ids {
		b = append(b, id[:]...)
	}
	return b
}

// DecodeBlockedDrops decodes a BlockedDropsKey value; a malformed one (it is
// ours, in our store) counts as nothing held.
func DecodeBlockedDrops(b []byte) (before int, ids []storage.MessageID) {
	if len(b) < 4 || (len(b)-4)%len(storage.MessageID{}) != 0 {
		return 0, nil
	}
	before = int(binary.BigEndian.Uint32(b))
	for b = b[4:]; len(b) > 0; b = b[len(storage.MessageID{}):] {
		ids = append(ids, storage.MessageID(b))
	}
	return before, ids
}

// Threads lists the conversations whose contact is (or, with accepted
// false, is not) accepted, newest first; blocked peers' never.
func (s *Service) Threads(accepted bool) ([]storage.Conversation, error) {
	var out []storage.Conversation
	err := s.env.Store.View(func(tx *storage.Txn) error {
		cs, err := tx.Conversations()
		if err != nil {
			return err
		}
		for _, c := range cs {
			ct, err := tx.Contact(c.Peer)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			state := storage.ContactUnknown
			if err == nil {
				state = ct.State
			}
			if state == storage.ContactBlocked {
				continue
			}
			if (state == storage.ContactAccepted) == accepted {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}
