package node

import (
	"errors"
	"testing"

	"github.com/backchannel/backchannel/crypto/safename"
)

// The names a user gives (the profile name, a contact's name) refuse
// control characters and bidirectional controls, as room and group names do.
func TestNamesRefuseControls(t *testing.T) {
	a := newTestNode(t, "")
	b := newTestNode(t, "")
	for _, name := range []string{"hi\x1b[2J\x1b[31mRED", "two\nlines", "c1\u009b", "gnp\u202e.exe", "bad\xff"} {
		if err := a.SetProfileName(name); !errors.Is(err, safename.ErrInvalid) {
			t.Errorf("SetProfileName(%q) = %v, want safename.ErrInvalid", name, err)
		}
		if _, err := a.AddContact(t.Context(), b.invite(), name); !errors.Is(err, safename.ErrInvalid) {
			t.Errorf("AddContact named %q: %v, want safename.ErrInvalid", name, err)
		}
	}
	if got := a.Self().Name; got != "" {
		t.Errorf("profile name %q kept after refusals", got)
	}
	if err := a.SetProfileName("Zoë 🙂"); err != nil {
		t.Error(err)
	}
}
