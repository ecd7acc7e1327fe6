package contacts

import (
	"fmt"
	"unicode/utf8"

	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/storage"
)

// MaxNameBytes bounds a display name: the user's profile name, a contact's
// local name, a name in an invite.
const MaxNameBytes = 64

const settingProfileName = "profile/name"

// ProfileName returns the display name shared with accepted contacts.
func (s *Service) ProfileName() string {
	var name string
	_ = s.env.Store.View(func(tx *storage.Txn) error {
		b, err := tx.GetSetting(settingProfileName)
		name = string(b)
		return err
	})
	return name
}

// SetProfileName sets the display name shared with accepted contacts.
func (s *Service) SetProfileName(name string) error {
	if len(name) > MaxNameBytes || !utf8.ValidString(name) {
		return fmt.Errorf("%w: name longer than %d bytes or not UTF-8", errs.ErrTooLarge, MaxNameBytes)
	}
	return s.env.Store.Update(func(tx *storage.Txn) error { return tx.PutSetting(settingProfileName, []byte(name)) })
}
