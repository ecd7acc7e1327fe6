package dm

import (
	"errors"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

// profileSentKey records the profile name p was last sent.
func profileSentKey(p peer.ID) string { return "profile-sent/" + p.String() }

// EnsureProfileSent sends p our profile name if p is an accepted contact
// that has answered us and has not had this name yet. Before p answers,
// every message to it pays a stamp and p keeps no name from a stranger, so
// the name waits: it goes with the first message after p's first reply (or
// when p accepts our request, which p answers for itself). The node calls
// it when we write to p, when p first answers, and for every contact when
// the user changes the name.
func (d *Service) EnsureProfileSent(p peer.ID) error {
	name := d.cfg.Contacts.ProfileName()
	if name == "" || !d.Answered(p) {
		return nil
	}
	send := false
	err := d.env.Store.View(func(tx *storage.Txn) error {
		c, err := tx.Contact(p)
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		if err != nil || c.State != storage.ContactAccepted {
			return err
		}
		sent, err := tx.GetSetting(profileSentKey(p))
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		send = string(sent) != name
		return nil
	})
	if err != nil || !send {
		return err
	}
	if err := d.SendProfile(p); err != nil {
		return err
	}
	return d.env.Store.Update(func(tx *storage.Txn) error { return tx.PutSetting(profileSentKey(p), []byte(name)) })
}

// SendProfileToAll sends our (new) profile name to every accepted contact
// that has answered us.
func (d *Service) SendProfileToAll() error {
	var cs []storage.Contact
	if err := d.env.Store.View(func(tx *storage.Txn) (err error) { cs, err = tx.Contacts(); return err }); err != nil {
		return err
	}
	var first error
	for _, c := range cs {
		if c.State != storage.ContactAccepted {
			continue
		}
		if err := d.EnsureProfileSent(c.Peer); err != nil && first == nil {
			first = err
		}
	}
	return first
}
