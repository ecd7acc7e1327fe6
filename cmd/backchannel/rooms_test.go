package main

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api/apitest"
	"github.com/backchannel/backchannel/crypto/room"
)

func TestRoomCommands(t *testing.T) {
	s := populated(t) // messages 1 and 2 are taken
	town := s.Fake.AddRemoteRoom("Town Hall", "ask the mayor", bob)
	h := s.Home
	standup := apitest.RoomID(2)
	m3, m4 := apitest.RoomMessageID(3).String(), apitest.RoomMessageID(4).String()

	out := ok(t, h, "room", "create", "Standup", "--description", "daily", "--start", "2026-03-01T18:00:00Z")
	if !strings.Contains(out, standup.String()) || !strings.Contains(out, "2026-03-01 18:00") {
		t.Errorf("create printed\n%s", out)
	}
	out = ok(t, h, "room", "discover", "town hall", "--json")
	sameJSON(t, out, fmt.Sprintf(`{"rooms":[{"id":%q,"name":"Town Hall","description":"ask the mayor","host_id":%q,"joined":false,"listeners":0}]}`, town, bob))
	ok(t, h, "room", "join", "Town Hall")
	out = ok(t, h, "room", "list")
	if !strings.Contains(out, "Standup") || !strings.Contains(out, "Town Hall") || !strings.Contains(out, "NAME") {
		t.Errorf("list printed\n%s", out)
	}
	if got := ok(t, h, "room", "say", "Standup", "hello", "all"); strings.TrimSpace(got) != m3 {
		t.Errorf("say printed %q, want %s", got, m3)
	}
	if got := ok(t, h, "room", "ask", "standup", "ship", "today?", "--json"); !strings.Contains(got, m4) {
		t.Errorf("ask printed %q", got)
	}
	ok(t, h, "room", "upvote", "Standup", m4[:8]) // a unique prefix names a message
	ok(t, h, "room", "react", "Standup", m3[:12], "🎉")
	ok(t, h, "room", "answer", "Standup", m4)
	ok(t, h, "room", "pin", "Standup", m4)
	ok(t, h, "room", "grant", "Standup", "bob", "speaker", "--for", "1h")
	ok(t, h, "room", "mute", "Standup", bob.String(), "--for", "5m")

	out = ok(t, h, "room", "read", "Standup")
	if want := "2026-01-02 03:04  you · host: hello all 🎉1(you)  [" + m3[:12] + "]\n"; out != want {
		t.Errorf("read printed\n%q\nwant\n%q", out, want)
	}
	out = ok(t, h, "room", "read", "Standup", "--json")
	you := fmt.Sprintf(`{"id":%q,"name":"","display":"you","role":"host","contact":false,"verified":false,"me":true}`, self)
	sameJSON(t, out, fmt.Sprintf(`{"messages":[{"id":%q,"sender_id":%q,"sender":%s,"time":"2026-01-02T03:04:08Z","text":"hello all","reactions":[{"emoji":"🎉","count":1,"mine":true}]}]}`, m3, self, you))
	out = ok(t, h, "room", "questions", "Standup")
	if !strings.Contains(out, m4[:12]) || !strings.Contains(out, "answered,pinned") || !strings.Contains(out, "ship today?") {
		t.Errorf("questions printed\n%s", out)
	}
	out = ok(t, h, "room", "who", "Standup")
	if !regexp.MustCompile(`(?m)^host\s+you\s+` + self.String() + `\n^speaker\s+bob\s+` + bob.String() + `$`).MatchString(out) {
		t.Errorf("who printed\n%s", out)
	}
	out = ok(t, h, "room", "who", "Standup", "--json")
	sameJSON(t, out, fmt.Sprintf(`{"id":%q,"name":"Standup","description":"daily","host_id":%q,"start":"2026-03-01T18:00:00Z","joined":true,"listeners":0,"speakers":[%q,%q],`+
		`"people":[%s,{"id":%q,"name":"","display":"bob","role":"speaker","contact":true,"verified":false,"me":false}],"people_more":0,"as":{"use_profile":true,"name":""},"my_name":""}`,
		standup, self, self, bob, you, bob))
	ok(t, h, "room", "hide", "Standup", m3)
	if out := ok(t, h, "room", "read", "Standup"); out != "no messages\n" {
		t.Errorf("read after hide printed %q", out)
	}
	ok(t, h, "room", "leave", "Standup")
	if got := s.Fake.RoomRole(standup, bob); got != room.RoleSpeaker {
		t.Errorf("bob's role %v", got)
	}
}

func TestRoomCommandErrors(t *testing.T) {
	s := populated(t)
	town := s.Fake.AddRemoteRoom("Town Hall", "", bob)
	if _, err := s.Fake.JoinRoom(t.Context(), "Town Hall", nil); err != nil {
		t.Fatal(err)
	}
	q, err := s.Fake.RoomAsk(t.Context(), town, "why?")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"not the host", []string{"room", "answer", "Town Hall", q.String()}, "only the room's host or a moderator"},
		{"unknown room", []string{"room", "read", "Nowhere"}, "no known room named \"Nowhere\""},
		{"short prefix", []string{"room", "upvote", "Town Hall", "c0"}, "at least 6 hex digits"},
		{"unknown prefix", []string{"room", "upvote", "Town Hall", "abcdef"}, "no message abcdef"},
		{"bad role", []string{"room", "grant", "Town Hall", "bob", "king"}, "want speaker or moderator"},
		{"mute too long", []string{"room", "mute", "Town Hall", "bob", "--for", "48h"}, "at most 24h"},
		{"bad start", []string{"room", "create", "X", "--start", "tomorrow"}, "RFC 3339"},
		{"no daemon", []string{"--home", t.TempDir(), "room", "list"}, "no daemon running"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errs, code := cli(t, s.Home, tt.args...)
			if code == 0 || !strings.Contains(errs, tt.want) {
				t.Errorf("exit %d, stderr %q; want failure mentioning %q", code, errs, tt.want)
			}
		})
	}
}

// TestRoomJoinLooking: joining by name says first on stderr how many
// connected peers will be asked, and a name no one knows ends with the
// daemon's "not found among N peers"; with no peer the daemon's sentence
// says what to do, and nothing is said about looking.
func TestRoomJoinLooking(t *testing.T) {
	s := populated(t) // the fake has 2 connected peers
	town := s.Fake.AddRemoteRoom("Town Hall", "", bob)

	_, errs, code := cli(t, s.Home, "room", "join", "Town Hall")
	if code != 0 || errs != "looking for room \"Town Hall\" among 2 connected peers…\n" {
		t.Errorf("join by name: exit %d, stderr %q", code, errs)
	}
	if _, errs, code := cli(t, s.Home, "room", "join", town.String()); code != 0 || errs != "" {
		t.Errorf("join by ID: exit %d, stderr %q; want nothing said", code, errs)
	}
	_, errs, code = cli(t, s.Home, "room", "join", "No Such Room")
	want := "looking for room \"No Such Room\" among 2 connected peers…\n" +
		"backchannel: not found: no room named \"No Such Room\" found among 2 peers\n"
	if code == 0 || errs != want {
		t.Errorf("missing room: exit %d, stderr\n%q\nwant\n%q", code, errs, want)
	}

	s.Fake.SetConnectedPeers(0)
	_, errs, code = cli(t, s.Home, "room", "join", "No Such Room")
	want = "backchannel: looking for room \"No Such Room\": not connected to any peer: add a bootstrap peer or a contact first\n"
	if code == 0 || errs != want {
		t.Errorf("no peers: exit %d, stderr\n%q\nwant\n%q", code, errs, want)
	}
}
