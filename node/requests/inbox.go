package requests

import (
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/storage"
)

// Sender sends what accepting a request tells the stranger, over 1:1. The
// 1:1 service (node/dm) satisfies it.
type Sender interface {
	SendProfile(p peer.ID) error
	SendAccepted(p peer.ID) error
	SendReadReceipts(p peer.ID, ids []storage.MessageID) error
}

// Config configures the requests inbox.
type Config struct {
	Contacts *contacts.Service
	Sender   Sender
	// RequestMessagesPerSender bounds a request thread (see Limits).
	RequestMessagesPerSender int
}

// Service is the requests inbox. It starts no goroutines.
type Service struct {
	env env.Env
	cfg Config
}

// New returns the requests inbox of the node e describes.
func New(e env.Env, cfg Config) *Service { return &Service{env: e, cfg: cfg} }

// List lists strangers' conversations, newest first.
func (s *Service) List() ([]storage.Conversation, error) { return s.cfg.Contacts.Threads(false) }

// Accept moves a stranger's thread into the inbox and sends them our profile
// and an acceptance notice.
func (s *Service) Accept(_ context.Context, p peer.ID) error {
	st, err := s.cfg.Contacts.State(p)
	if err != nil {
		return err
	}
	if st == storage.ContactBlocked {
		return fmt.Errorf("%w: unblock it first", errs.ErrBlocked)
	}
	if err := s.cfg.Contacts.SetState(p, storage.ContactAccepted, false); err != nil {
		return err
	}
	// Messages read while the thread was a request got no receipt; now that
	// the sender is accepted, they get one.
	var seen []storage.MessageID
	err = s.env.Store.View(func(tx *storage.Txn) error {
		ms, err := tx.Messages(p, s.cfg.RequestMessagesPerSender, time.Time{})
		for _, m := range ms {
			if m.Direction == storage.Inbound && m.State == storage.StateSeen {
				seen = append(seen, m.ID)
			}
		}
		return err
	})
	if err != nil {
		return err
	}
	if err := s.cfg.Sender.SendProfile(p); err != nil {
		return err
	}
	if err := s.cfg.Sender.SendAccepted(p); err != nil {
		return err
	}
	if len(seen) == 0 {
		return nil
	}
	return s.cfg.Sender.SendReadReceipts(p, seen)
}

// Decline deletes a stranger's thread silently; their next message is a new
// request.
func (s *Service) Decline(p peer.ID) error {
	st, err := s.cfg.Contacts.State(p)
	if err != nil {
		return err
	}
	if st != storage.ContactUnknown {
		return fmt.Errorf("%w: %s is not a request", errs.ErrNotFound, p)
	}
	// The session stays: it holds no content, and the peer's next message
	// (a new request) arrives on it.
	return s.env.Store.Update(func(tx *storage.Txn) error {
		if err := tx.DeleteConversation(p); err != nil {
			return err
		}
		return tx.DeleteContact(p)
	})
}
