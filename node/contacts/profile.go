package contacts

import (
	"fmt"

	"github.com/backchannel/backchannel/crypto/safename"

	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/storage"
)

// MaxNameBytes bounds a display name: the user's profile name, a contact's
// local name, a name in an invite.
const MaxNameBytes = 64

// CheckName checks a name the user gives (the profile name, a contact's
// local name): at most MaxNameBytes, and crypto/safename's rule (UTF-8, no
// control character, no bidirectional control), so that it cannot drive or
// reorder the screen of whoever is shown it. The error wraps
// errs.ErrTooLarge or safename.ErrInvalid.
func CheckName(name string) error {
	if len(name) > MaxNameBytes {
		return fmt.Errorf("%w: name longer than %d bytes", errs.ErrTooLarge, MaxNameBytes)
	}
	return safename.Check(name)
}

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
	if err := CheckName(name); err != nil {
		return err
	}
	return s.env.Store.Update(func(tx *storage.Txn) error { return tx.PutSetting(settingProfileName, []byte(name)) })
}
