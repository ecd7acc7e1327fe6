package dm

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/storage"
)

// Messages returns up to limit messages of the conversation with p, newest
// first, older than before (zero: from the newest).
func (d *Service) Messages(p peer.ID, limit int, before time.Time) ([]storage.Message, error) {
	var ms []storage.Message
	err := d.env.Store.View(func(tx *storage.Txn) error {
		var err error
		ms, err = tx.Messages(p, limit, before)
		return err
	})
	return ms, err
}

// MarkRead marks p's messages read; an accepted contact gets read receipts,
// a stranger nothing.
func (d *Service) MarkRead(p peer.ID) error {
	var ids []storage.MessageID
	var state storage.ContactState
	err := d.env.Store.Update(func(tx *storage.Txn) error {
		c, err := tx.Contact(p)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %s", errs.ErrUnknownPeer, p)
		}
		if err != nil {
			return err
		}
		state = c.State
		ids, err = tx.MarkRead(p)
		return err
	})
	if err != nil || state != storage.ContactAccepted || len(ids) == 0 {
		return err
	}
	return d.SendReadReceipts(p, ids)
}

// Typing tells an accepted contact that the user is (not) typing.
func (d *Service) Typing(p peer.ID, typing bool) error {
	s, err := d.cfg.Contacts.State(p)
	if err != nil || s != storage.ContactAccepted {
		return err
	}
	return d.sendControl(p, &dmpb.Content{Body: &dmpb.Content_Typing{Typing: &dmpb.Typing{Typing: typing}}})
}
