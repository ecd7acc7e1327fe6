package main

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api/apitest"
)

func groupMsg(n byte) string {
	id := apitest.GroupMessageID(n)
	return hex.EncodeToString(id[:])
}

func TestGroupCommands(t *testing.T) {
	s := populated(t)
	h := s.Home
	invited := s.Fake.AddGroupInvite("Book club", bob) // group 1
	supper := apitest.GroupID(2).String()
	carol := apitest.PeerID(3)

	out := ok(t, h, "group", "create", "Supper")
	if !strings.Contains(out, supper) || !strings.Contains(out, "owner") {
		t.Errorf("create printed\n%s", out)
	}
	ok(t, h, "group", "invite", "Supper", "bob")
	ok(t, h, "group", "add", "Supper", carol.String())
	ok(t, h, "group", "admin", "Supper", "bob")
	out = ok(t, h, "group", "members", "Supper")
	for _, want := range []string{"owner", "admin", "bob", carol.String(), "…" + carol.String()[len(carol.String())-8:], "epoch  3"} {
		if !strings.Contains(out, want) {
			t.Errorf("members printed\n%s\nwant %q in it", out, want)
		}
	}
	// Carol, no contact, tells the group her name (with a control
	// character: the fake does not check names, the CLI escapes them); bob,
	// a verified contact, shows by our name with ✓.
	if err := s.Fake.AnnounceGroupName(apitest.GroupID(2), carol, "Carol\x1b[2J"); err != nil {
		t.Fatal(err)
	}
	if err := s.Fake.SetVerified(bob, true); err != nil {
		t.Fatal(err)
	}
	out = ok(t, h, "group", "members", "Supper")
	for _, want := range []string{`member  Carol\x1b[2J  ` + carol.String(), "admin   bob ✓  ", "owner   you  "} {
		if !strings.Contains(out, want) {
			t.Errorf("members printed\n%s\nwant %q in it", out, want)
		}
	}
	out = ok(t, h, "group", "list")
	if !strings.Contains(out, "Book club") || !strings.Contains(out, "invited") || !strings.Contains(out, "INVITED BY") {
		t.Errorf("list printed\n%s", out)
	}
	if got := strings.TrimSpace(ok(t, h, "group", "send", "Supper", "hello", "all")); got != groupMsg(1) {
		t.Errorf("send printed %q, want %s", got, groupMsg(1))
	}
	ok(t, h, "group", "send", "Supper", "Picnic", "--event", "2026-03-01T12:00:00Z")
	ok(t, h, "group", "send", "Supper", "👍", "--react", groupMsg(1))
	ok(t, h, "group", "send", "Supper", "yes", "--rsvp", strings.ToUpper(groupMsg(2)))
	ok(t, h, "group", "send", "Supper", "same", "here", "--reply-to", groupMsg(1))
	out = ok(t, h, "group", "read", "Supper")
	want := "2026-01-02 03:04  you: hello all 👍you  (delivered 0, read 0)  [" + groupMsg(1)[:12] + "]\n" +
		"2026-01-02 03:04  you plans \"Picnic\" at 2026-03-01 12:00 (yes: you)  (delivered 0, read 0)  [" + groupMsg(2)[:12] + "]\n" +
		"2026-01-02 03:04  you (re " + groupMsg(1)[:12] + "): same here  (delivered 0, read 0)  [" + groupMsg(5)[:12] + "]\n"
	if out != want {
		t.Errorf("read printed\n%s\nwant\n%s", out, want)
	}
	if _, err := s.Fake.GroupSpeak(apitest.GroupID(2), carol, "who is in on Friday?"); err != nil {
		t.Fatal(err)
	}
	if out = ok(t, h, "group", "read", "Supper", "--limit", "1"); !strings.Contains(out, `  Carol\x1b[2J: who is in on Friday?  [`) {
		t.Errorf("read printed\n%s\nwant Carol's line under her name", out)
	}
	out = ok(t, h, "group", "read", "Supper", "--limit", "2", "--json")
	sameJSON(t, out, fmt.Sprintf(`{"messages":[`+
		`{"id":%[1]q,"sender_id":%[2]q,"sender":{"peer_id":%[2]q,"role":"member","name":"Carol\u001b[2J","display":"Carol\u001b[2J","contact":false,"verified":false,"me":false},"kind":"text","text":"who is in on Friday?","time":"2026-01-02T03:04:13Z","epoch":3,"outbound":false,"reactions":[],"rsvps":[],"delivered_to":[],"read_by":[%[5]q]},`+
		`{"id":%[3]q,"sender_id":%[5]q,"sender":{"peer_id":%[5]q,"role":"owner","display":"you","contact":false,"verified":false,"me":true},"kind":"reply","text":"same here","reply_to":%[4]q,"time":"2026-01-02T03:04:12Z","epoch":3,"outbound":true,"reactions":[],"rsvps":[],"delivered_to":[],"read_by":[]}]}`,
		groupMsg(6), carol, groupMsg(5), groupMsg(1), self))
	if _, errs, code := cli(t, h, "group", "send", "Supper", "x", "--react", "7e0000"); code == 0 || !strings.Contains(errs, "ambiguous") {
		t.Errorf("react to an ambiguous prefix: exit %d, %q", code, errs)
	}
	ok(t, h, "group", "remove", "Supper", carol.String())
	ok(t, h, "group", "rename", "Supper", "Supper club")
	ok(t, h, "group", "rekey", "Supper club")
	ok(t, h, "group", "admin", "Supper club", "bob", "--revoke")
	out = ok(t, h, "group", "members", "Supper club", "--json")
	sameJSON(t, out, fmt.Sprintf(`{"id":%q,"name":"Supper club","state":"joined","epoch":6,"role":"owner","member_count":2,"unread":0,"key_pending":false,"members":[`+
		`{"peer_id":%q,"role":"owner","display":"you","contact":false,"verified":false,"me":true},`+
		`{"peer_id":%q,"role":"member","display":"bob","contact":true,"verified":true,"me":false}]}`, supper, self, bob))

	if out := ok(t, h, "group", "join", "Book club"); !strings.Contains(out, invited.String()) {
		t.Errorf("join printed\n%s", out)
	}
	ok(t, h, "group", "leave", invited.String())
	if _, errs, code := cli(t, h, "group", "send", "Book club", "still here?"); code == 0 || !strings.Contains(errs, "not in group") {
		t.Errorf("send after leaving: exit %d, %q", code, errs)
	}
}

func TestGroupCommandErrors(t *testing.T) {
	s := populated(t)
	h := s.Home
	s.Fake.AddGroupInvite("Book club", bob)
	ok(t, h, "group", "join", "Book club")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"group", "invite", "Book club", "bob"}, "owner or an admin"},
		{[]string{"group", "rename", "Book club", "mine"}, "owner or an admin"},
		{[]string{"group", "send", "nowhere", "hi"}, "no group named"},
		{[]string{"group", "send", "Book club", "x", "--react", "7e", "--rsvp", "7e"}, "at most one of"},
		{[]string{"group", "send", "Book club", "x", "--react", "7e"}, "at least 6 hex digits"},
		{[]string{"group", "send", "Book club", "x", "--react", "abcdef"}, "no message abcdef"},
		{[]string{"group", "send", "Book club", "x", "--event", "tomorrow"}, "RFC 3339"},
		{[]string{"group", "decline", "Book club"}, "is joined"},
	}
	for _, tt := range tests {
		_, errs, code := cli(t, h, tt.args...)
		if code == 0 || !strings.Contains(errs, tt.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error with %q", tt.args, code, errs, tt.want)
		}
	}
}
