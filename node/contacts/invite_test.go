package contacts

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// FuzzParseInvite checks that an accepted invite survives a round trip.
func FuzzParseInvite(f *testing.F) {
	f.Add("backchannel://invite?addr=%2Fip4%2F127.0.0.1%2Ftcp%2F4001&name=Alice&peer=12D3KooWGRUVh2upZ5eMb1UZUKRrHXvZ8GQYxm4ANpG5kzKc6nQH")
	f.Add("12D3KooWGRUVh2upZ5eMb1UZUKRrHXvZ8GQYxm4ANpG5kzKc6nQH")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := ParseInvite(s)
		if err != nil {
			return
		}
		back, err := ParseInvite(inv.String())
		if err != nil {
			t.Fatalf("re-encoded invite does not parse: %v", err)
		}
		if back.String() != inv.String() {
			t.Fatalf("invite changed: %q vs %q", back.String(), inv.String())
		}
	})
}
