package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
	"github.com/backchannel/backchannel/node"
)

var helper = apitest.PeerID(9)

func TestMailboxCommands(t *testing.T) {
	s := populated(t)
	h := s.Home

	if out := ok(t, h, "mailbox", "list"); !strings.Contains(out, "no mailboxes") {
		t.Errorf("list with none printed\n%s", out)
	}
	out := ok(t, h, "mailbox", "appoint", helper.String())
	if want := "appointed " + helper.String() + " as your mailbox until 2026-04-02 03:04\n"; out != want {
		t.Errorf("appoint printed %q, want %q", out, want)
	}
	sameJSON(t, ok(t, h, "mailbox", "appoint", "bob", "--days", "30", "--json"),
		fmt.Sprintf(`{"peer_id":%q,"issued":"2026-01-02T03:04:09Z","expires":"2026-02-01T03:04:09Z"}`, bob))
	out = ok(t, h, "mailbox", "list")
	for _, want := range []string{"MAILBOX", "LAST DRAINED", helper.String(), "2026-04-02 03:04", "not since start", "bob"} {
		if !strings.Contains(out, want) {
			t.Errorf("list lacks %q:\n%s", want, out)
		}
	}
	out = ok(t, h, "mailbox", "drain")
	if !strings.HasPrefix(out, "drained 2 mailboxes\n") || !strings.Contains(out, "2026-01-02 03:04") || strings.Contains(out, "not since start") {
		t.Errorf("drain printed\n%s", out)
	}
	if out := ok(t, h, "mailbox", "revoke", "bob"); out != "revoked mailbox bob\n" {
		t.Errorf("revoke printed %q", out)
	}
	sameJSON(t, ok(t, h, "mailbox", "list", "--json"), fmt.Sprintf(`{"mailboxes":[`+
		`{"peer_id":%q,"issued":"2026-01-02T03:04:08Z","expires":"2026-04-02T03:04:08Z","last_drain":"2026-01-02T03:04:10Z"}]}`, helper))
	sameJSON(t, ok(t, h, "mailbox", "revoke", helper.String(), "--json"), `{"mailboxes":[]}`)

	// Serving: off, then on for contacts; a helper says so.
	if out := ok(t, h, "mailbox", "serve"); !strings.Contains(out, "holds mail for no one") {
		t.Errorf("serve printed\n%s", out)
	}
	if out := ok(t, h, "mailbox", "serve", "on"); !strings.Contains(out, "holding mail for your contacts: on") ||
		!strings.Contains(out, "holds mail for your contacts who appoint it") {
		t.Errorf("serve on printed\n%s", out)
	}
	sameJSON(t, ok(t, h, "mailbox", "serve", "--json"), `{"helper":false,"contacts":true}`)
	sameJSON(t, ok(t, h, "mailbox", "serve", "off", "--json"), `{"helper":false,"contacts":false}`)
	if out := ok(t, h, "mailbox", "held"); !strings.Contains(out, "holding no mail for anyone") {
		t.Errorf("held with none printed\n%s", out)
	}

	// A helper's view: counts and sizes per recipient.
	appointed := time.Date(2026, 1, 1, 9, 0, 0, 0, time.UTC)
	expires := appointed.Add(90 * 24 * time.Hour)
	s.Fake.SetMailboxHeld(true, []api.MailboxHeld{
		{Recipient: bob.String(), Items: 12, StrangerItems: 2, Bytes: 3 << 20, Appointed: &appointed, Expires: &expires},
		{Recipient: stranger.String(), Items: 1, Bytes: 900},
	})
	out = ok(t, h, "mailbox", "held")
	for _, want := range []string{"RECIPIENT", "FROM STRANGERS", "bob", bob.String(), "12", "3.0 MiB", "2026-01-01 09:00", "2026-04-01 09:00", stranger.String(), "900 B"} {
		if !strings.Contains(out, want) {
			t.Errorf("held lacks %q:\n%s", want, out)
		}
	}
	sameJSON(t, ok(t, h, "mailbox", "held", "--json"), fmt.Sprintf(`{"held":[`+
		`{"recipient":%q,"items":12,"stranger_items":2,"bytes":3145728,"appointed":"2026-01-01T09:00:00Z","expires":"2026-04-01T09:00:00Z"},`+
		`{"recipient":%q,"items":1,"stranger_items":0,"bytes":900}]}`, bob, stranger))
	if out := ok(t, h, "mailbox", "serve"); !strings.Contains(out, "as a helper") {
		t.Errorf("serve on a helper printed\n%s", out)
	}
}

// TestMailboxCommandErrors: refusals and mistakes are one line on stderr;
// a mailbox's own words cannot drive the terminal.
func TestMailboxCommandErrors(t *testing.T) {
	s := populated(t)
	refuser := apitest.PeerID(10)
	s.Fake.RefuseMailbox(refuser, "go away\x1b[2J")
	tests := []struct {
		name string
		args []string
		want string // substring of stderr
	}{
		{"refused", []string{"mailbox", "appoint", refuser.String()}, `mailbox refused: go away\x1b[2J (a mailbox must be a helper`},
		{"unknown name", []string{"mailbox", "appoint", "nobody"}, "backchannel contacts add"},
		{"too many days", []string{"mailbox", "appoint", "bob", "--days", "401"}, "days 401"},
		{"revoke a non-mailbox", []string{"mailbox", "revoke", "bob"}, "not one of our mailboxes"},
		{"serve maybe", []string{"mailbox", "serve", "maybe"}, `invalid argument "maybe"`},
		{"no peer", []string{"mailbox", "appoint"}, "accepts 1 arg(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := cli(t, s.Home, tt.args...)
			if code == 0 {
				t.Fatalf("exit 0, stdout %s", out)
			}
			if !strings.Contains(errs, tt.want) {
				t.Errorf("stderr %q lacks %q", errs, tt.want)
			}
			if strings.Count(errs, "\n") != 1 || strings.Contains(errs, "\x1b") {
				t.Errorf("stderr is not one safe line: %q", errs)
			}
		})
	}

	// A drain error, in the mailbox's words, is escaped in the list.
	if _, err := s.Fake.AppointMailbox(t.Context(), helper, 0); err != nil {
		t.Fatal(err)
	}
	s.Fake.RefuseMailbox(helper, "quota\x1b]0;pwned\x07")
	if _, errs, code := cli(t, s.Home, "mailbox", "drain"); code == 0 || strings.Contains(errs, "\x1b") {
		t.Errorf("drain: exit %d, stderr %q", code, errs)
	}
	out := ok(t, s.Home, "mailbox", "list")
	if strings.Contains(out, "\x1b") || !strings.Contains(out, `quota\x1b]0;pwned\x07`) {
		t.Errorf("list printed the drain error unescaped or not at all:\n%q", out)
	}
}

// TestMailboxReadState: a message held by the recipient's mailbox reads
// "in mailbox" in read and send; --json keeps "in_mailbox".
func TestMailboxReadState(t *testing.T) {
	s := populated(t)
	m, err := s.Fake.Send(t.Context(), bob, api.Outgoing{Kind: "text", Body: "are you there?"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Fake.SetMessageState(bob, m.ID, "in_mailbox"); err != nil {
		t.Fatal(err)
	}
	out := ok(t, s.Home, "read", "bob")
	if want := "you: are you there?  [in mailbox " + m.ID + "]"; !strings.Contains(out, want) {
		t.Errorf("read lacks %q:\n%s", want, out)
	}
	got := decodeJSON[api.Messages](t, ok(t, s.Home, "read", "bob", "--json"))
	if got.Messages[0].State != "in_mailbox" {
		t.Errorf("read --json: state %q, want in_mailbox", got.Messages[0].State)
	}
}

func TestMailboxDepositAfterFlag(t *testing.T) {
	for _, tt := range []struct{ in, want time.Duration }{
		{node.DefaultDepositAfter, node.DefaultDepositAfter},
		{time.Minute, time.Minute},
		{0, -1},
		{-time.Second, -1},
	} {
		if got := depositAfter(tt.in); got != tt.want {
			t.Errorf("depositAfter(%v) = %v, want %v", tt.in, got, tt.want)
		}
	}
	cmd := (&app{}).daemonCmd()
	f := cmd.Flags().Lookup("deposit-after")
	if f == nil || f.DefValue != node.DefaultDepositAfter.String() {
		t.Errorf("--deposit-after: %+v", f)
	}
	if h := cmd.Flags().Lookup("helper"); h == nil || !strings.Contains(h.Usage, "appoint it as their mailbox") {
		t.Errorf("--helper's help does not say it holds mail: %+v", h)
	}
}
