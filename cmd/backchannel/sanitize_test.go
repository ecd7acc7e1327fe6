package main

import (
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
)

func TestSanitize(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"", ""},
		{"plain text", "plain text"},
		{"Zoë مریم 🙂 日本", "Zoë مریم 🙂 日本"},
		{"👨\u200d👩\u200d👧", "👨\u200d👩\u200d👧"}, // joiners make one emoji: kept
		{`a back\slash and \x1b typed`, `a back\slash and \x1b typed`},
		{"hi\x1b[2J\x1b[31mRED", `hi\x1b[2J\x1b[31mRED`},
		{"title\x1b]0;pwned\x07", `title\x1b]0;pwned\x07`},
		{"two\nlines\tand\rback", `two\nlines\tand\rback`},
		{"nul\x00 del\x7f bs\x08", `nul\x00 del\x7f bs\x08`},
		{"c1 csi\u009b31m nel\u0085", `c1 csi\u009b31m nel\u0085`},
		{"gnp\u202e.exe", "gnpU+202E.exe"},
		{"\u202a\u202b\u202c\u202d\u202e", "U+202AU+202BU+202CU+202DU+202E"},
		{"\u2066\u2067\u2068\u2069", "U+2066U+2067U+2068U+2069"},
		{"\u200e\u200f\u061c", "U+200EU+200FU+061C"},
		{"line\u2028para\u2029", "lineU+2028paraU+2029"},
		{"bad\xff\xfeutf8", `bad\xff\xfeutf8`},
		{"real \ufffd kept", "real \ufffd kept"},
	} {
		got := sanitize(tt.in)
		if got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := sanitize(got); again != got {
			t.Errorf("sanitize is not idempotent on %q: %q", got, again)
		}
	}
}

// FuzzSanitize: whatever comes in, what goes out holds no control, no bidi
// control and only UTF-8.
func FuzzSanitize(f *testing.F) {
	f.Add("hi\x1b[2J\u202e\xff")
	f.Fuzz(func(t *testing.T, s string) {
		out := sanitize(s)
		if !needsSanitizingFree(out) {
			t.Fatalf("sanitize(%q) = %q", s, out)
		}
	})
}

func needsSanitizingFree(s string) bool { return !needsSanitizing(s) }

// evil is text a peer wrote to drive the reader's terminal and reorder it.
const (
	evil        = "hi\x1b[2J\x1b[31mRED\x1b]0;pwned\x07 gnp\u202e.exe\nline"
	evilVisible = `hi\x1b[2J\x1b[31mRED\x1b]0;pwned\x07 gnpU+202E.exe\nline`
)

// TestReadSanitizes: `read` prints a message full of escape sequences and a
// bidi override visibly escaped, byte for byte; --json keeps the body.
func TestReadSanitizes(t *testing.T) {
	s := apitest.StartServer(t)
	if _, err := s.Fake.AddContact(t.Context(), bob.String(), "bob"); err != nil {
		t.Fatal(err)
	}
	s.Fake.Receive(bob, evil)
	s.Fake.Receive(bob, "\u2067تحذير\u2069 fine")
	got := ok(t, s.Home, "read", "bob")
	want := "2026-01-02 03:04  bob: " + evilVisible + "  [received 00000000000000000000000000000001]\n" +
		"2026-01-02 03:04  bob: U+2067تحذيرU+2069 fine  [received 00000000000000000000000000000002]\n"
	if got != want {
		t.Errorf("read printed\n%q\nwant\n%q", got, want)
	}
	ms := decodeJSON[api.Messages](t, ok(t, s.Home, "read", "bob", "--json"))
	if len(ms.Messages) != 2 || ms.Messages[1].Text != evil {
		t.Errorf("read --json: %+v", ms.Messages)
	}
}

// noRaw fails the test when out holds a control (but the newlines that end
// lines) or a bidi control.
func noRaw(t *testing.T, what, out string) {
	t.Helper()
	if needsSanitizing(strings.ReplaceAll(out, "\n", "")) {
		t.Errorf("%s printed raw controls:\n%q", what, out)
	}
}

// TestRemoteTextSanitized: every listing that shows what a peer wrote or
// named shows it sanitized.
func TestRemoteTextSanitized(t *testing.T) {
	s := apitest.StartServer(t)
	h := s.Home
	carol := apitest.PeerID(3)
	// The fake keeps any name; the node would refuse this one, but a
	// contact's profile name arrives from the contact.
	if _, err := s.Fake.AddContact(t.Context(), bob.String(), "bob\x1b[2J\u202e"); err != nil {
		t.Fatal(err)
	}
	s.Fake.Receive(bob, evil)
	s.Fake.AddStranger(stranger, evil)

	gid := s.Fake.AddGroupInvite("club\x1b[31m\u202egnp", bob)
	rid := s.Fake.AddRemoteRoom("talk\x1b[5m", "about\x1b[2J\u202eit", carol)
	ok(t, h, "room", "join", rid.String())
	if _, err := s.Fake.RoomSpeak(rid, carol, evil); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fake.RoomSpeak(rid, bob, "from bob"); err != nil {
		t.Fatal(err)
	}

	for _, args := range [][]string{
		{"contacts", "list"},
		{"inbox"},
		{"requests"},
		{"read", bob.String()},
		{"group", "list"},
		{"room", "list"},
		{"room", "who", rid.String()},
		{"room", "read", rid.String()},
	} {
		out := ok(t, h, args...)
		noRaw(t, strings.Join(args, " "), out)
		if !strings.Contains(out, `\x1b`) {
			t.Errorf("%v shows no visible escape:\n%s", args, out)
		}
	}
	out := ok(t, h, "room", "read", rid.String())
	if !strings.Contains(out, evilVisible) || !strings.Contains(out, `bob\x1b[2JU+202E: from bob`) {
		t.Errorf("room read printed\n%s", out)
	}
	if out := ok(t, h, "group", "list"); !strings.Contains(out, `club\x1b[31mU+202Egnp`) {
		t.Errorf("group list printed\n%s", out)
	}
	_ = gid

	// A group line and its sender's name.
	if _, err := s.Fake.AcceptGroupInvite(t.Context(), gid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fake.GroupSpeak(gid, bob, evil); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"group", "read", gid.String()}, {"group", "members", gid.String()}} {
		out := ok(t, h, args...)
		noRaw(t, strings.Join(args, " "), out)
		if !strings.Contains(out, `bob\x1b[2JU+202E`) {
			t.Errorf("%v printed\n%s", args, out)
		}
	}
	if out := ok(t, h, "group", "read", gid.String()); !strings.Contains(out, evilVisible) {
		t.Errorf("group read printed\n%s", out)
	}
}

// TestEventsSanitized: `events` prints an event's body and names sanitized.
func TestEventsSanitized(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, e := range []api.Event{
		{Type: "message", Time: &now, PeerID: bob.String(), Message: &api.Message{ID: "1", State: "received", Text: evil}},
		{Type: "contact", Time: &now, PeerID: bob.String(), Contact: &api.Contact{State: "accepted", ProfileName: "bob\x1b[2J\u202e"}},
		{Type: "group", Time: &now, Group: &api.GroupEvent{GroupID: "g", Kind: "text\x1b[2J"}},
	} {
		line := describeEvent(e)
		noRaw(t, e.Type, line)
		if !strings.Contains(line, `\x1b[2J`) {
			t.Errorf("event %s: %q", e.Type, line)
		}
	}
}

// TestPersonLabel: a person of a room shows as the room shows them, ✓ for a
// verified contact, a role above listener beside the name, and whatever the
// peer wrote escaped.
func TestPersonLabel(t *testing.T) {
	tests := []struct {
		p     api.RoomPerson
		label string
		line  string
	}{
		{api.RoomPerson{Display: "Bob", Role: "listener"}, "Bob", "Bob"},
		{api.RoomPerson{Display: "bobby", Role: "speaker", Contact: true, Verified: true}, "bobby ✓", "bobby ✓ · speaker"},
		{api.RoomPerson{Display: "alice (…abcdefgh)", Role: "host"}, "alice (…abcdefgh)", "alice (…abcdefgh) · host"},
		{api.RoomPerson{Display: "x\x1b[2J\u202e", Role: "moderator"}, `x\x1b[2JU+202E`, `x\x1b[2JU+202E · moderator`},
	}
	for _, tt := range tests {
		if got := personLabel(tt.p); got != tt.label {
			t.Errorf("personLabel(%+v) = %q, want %q", tt.p, got, tt.label)
		}
		if got := speaker(tt.p); got != tt.line {
			t.Errorf("speaker(%+v) = %q, want %q", tt.p, got, tt.line)
		}
	}
}
