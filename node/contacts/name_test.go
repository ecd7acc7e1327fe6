package contacts

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/crypto/safename"
	"github.com/backchannel/backchannel/node/errs"
)

// badNames are names no one may give: each holds a control character, a
// bidirectional control or bytes that are not UTF-8.
var badNames = []string{
	"hi\x1b[2J\x1b[31mRED",
	"two\nlines",
	"tab\there",
	"nul\x00",
	"del\x7f",
	"c1\u009b31m",
	"gnp\u202e.exe",
	"\u2066isolate\u2069",
	"mark\u200f",
	"arabic mark\u061c",
	"bad\xff",
}

func TestCheckName(t *testing.T) {
	for _, name := range badNames {
		if err := CheckName(name); !errors.Is(err, safename.ErrInvalid) {
			t.Errorf("CheckName(%q) = %v, want safename.ErrInvalid", name, err)
		}
	}
	for _, name := range []string{"", "Alice", "Zoë", "مریم", "👩\u200d💻 dev", "O'Brien (work)"} {
		if err := CheckName(name); err != nil {
			t.Errorf("CheckName(%q) = %v", name, err)
		}
	}
	if err := CheckName(strings.Repeat("a", MaxNameBytes+1)); !errors.Is(err, errs.ErrTooLarge) {
		t.Errorf("long name: %v, want ErrTooLarge", err)
	}
}

// An invite naming its peer with control characters is refused: the name
// would be shown as the contact's.
func TestParseInviteRefusesControlName(t *testing.T) {
	const peerID = "12D3KooWGRUVh2upZ5eMb1UZUKRrHXvZ8GQYxm4ANpG5kzKc6nQH"
	if _, err := ParseInvite(invitePrefix + "name=Alice&peer=" + peerID); err != nil {
		t.Fatal(err)
	}
	for _, name := range badNames {
		_, err := ParseInvite(invitePrefix + "name=" + url.QueryEscape(name) + "&peer=" + peerID)
		if !errors.Is(err, errs.ErrInvalidInvite) || !errors.Is(err, safename.ErrInvalid) {
			t.Errorf("invite named %q: %v, want ErrInvalidInvite and safename.ErrInvalid", name, err)
		}
	}
}
