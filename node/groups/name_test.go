package groups

import (
	"errors"
	"testing"

	"github.com/backchannel/backchannel/crypto/safename"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/groups/content"
)

// A group's name with a control character or a bidirectional control is
// refused when the group is made or renamed (and, through the same
// content.CheckName, in an invitation or a rename received).
func TestGroupNameRefusesControls(t *testing.T) {
	s, _ := newTestService(t)
	for _, name := range []string{"hi\x1b[2Jthere", "two\nlines", "c1\u0085", "gnp\u202e.exe", "\u2067x\u2069", "del\x7f"} {
		if err := content.CheckName(name); !errors.Is(err, errs.ErrInvalidGroup) || !errors.Is(err, safename.ErrInvalid) {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
		if _, err := s.CreateGroup(t.Context(), name); !errors.Is(err, errs.ErrInvalidGroup) {
			t.Errorf("CreateGroup(%q) = %v, want ErrInvalidGroup", name, err)
		}
	}
	if err := content.CheckName("Book club 📚 نادي"); err != nil {
		t.Errorf("a plain name: %v", err)
	}
}
