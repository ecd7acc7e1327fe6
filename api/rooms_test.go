package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket/wsjson"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
	"github.com/backchannel/backchannel/crypto/room"
)

// msg is the fake's n-th message ID, as the API shows it.
func msg(n byte) string { return apitest.RoomMessageID(n).String() }

func TestRoomEndpoints(t *testing.T) {
	s := populated(t) // its fake has made messages 1 and 2
	self := apitest.PeerID(0)
	town := s.Fake.AddRemoteRoom("Town Hall", "questions for the mayor", bob)
	standup := apitest.RoomID(2)
	townJSON := func(joined bool, listeners int) string {
		return fmt.Sprintf(`{"id":%q,"name":"Town Hall","description":"questions for the mayor","host_id":%q,"joined":%t,"listeners":%d}`, town, bob, joined, listeners)
	}
	standupJSON := func(joined bool) string {
		return fmt.Sprintf(`{"id":%q,"name":"Standup","description":"daily","host_id":%q,"start":"2026-02-01T10:00:00Z","joined":%t,"listeners":0}`, standup, self, joined)
	}
	sp := "/v1/rooms/" + standup.String()
	person := func(p fmt.Stringer, name, display, role string, me bool) string {
		return fmt.Sprintf(`{"id":%q,"name":%q,"display":%q,"role":%q,"contact":%t,"verified":false,"me":%t}`, p, name, display, role, p == bob, me)
	}
	you := person(self, "", "you", "host", true)
	tests := []struct {
		method, path, body string
		status             int
		want               string // the exact JSON body, "" for none
	}{
		{"GET", "/v1/rooms", "", 200, `{"rooms":[]}`},
		{"POST", "/v1/rooms", `{"name":"Standup","description":"daily","start":"2026-02-01T10:00:00Z"}`, 201, standupJSON(true)},
		{"GET", "/v1/rooms/discover?name=town%20hall", "", 200, `{"rooms":[` + townJSON(false, 0) + `]}`},
		{"POST", "/v1/rooms/join", `{"ref":"Town Hall","as":{"name":""}}`, 200, townJSON(true, 1)},
		{"POST", "/v1/rooms/join", fmt.Sprintf(`{"ref":%q}`, town), 200, townJSON(true, 1)},
		{"GET", "/v1/rooms", "", 200, `{"rooms":[` + standupJSON(true) + `,` + townJSON(true, 1) + `]}`},
		{"POST", "/v1/rooms/standup/say", `{"text":"hello"}`, 201, fmt.Sprintf(`{"id":%q}`, msg(3))},
		{"POST", sp + "/ask", `{"text":"when do we ship?"}`, 201, fmt.Sprintf(`{"id":%q}`, msg(4))},
		{"POST", sp + "/questions/" + msg(4) + "/upvote", "", 204, ""},
		{"POST", sp + "/messages/" + msg(3) + "/react", `{"emoji":"👍"}`, 204, ""},
		{"POST", sp + "/questions/" + msg(4) + "/answer", "", 204, ""},
		{"POST", sp + "/messages/" + msg(4) + "/pin", "", 204, ""},
		{"GET", sp + "/chat", "", 200, fmt.Sprintf(`{"messages":[{"id":%q,"sender_id":%q,"sender":%s,"time":"2026-01-02T03:04:08Z","text":"hello","reactions":[{"emoji":"👍","count":1,"mine":true}]}]}`, msg(3), self, you)},
		{"GET", sp + "/questions", "", 200, fmt.Sprintf(`{"questions":[{"id":%q,"sender_id":%q,"sender":%s,"time":"2026-01-02T03:04:09Z","text":"when do we ship?","upvotes":1,"upvoted":true,"answered":true,"pinned":true,"reactions":[]}]}`, msg(4), self, you)},
		{"POST", sp + "/grant", `{"peer":"bob","role":"speaker","ttl_seconds":3600}`, 204, ""},
		{"GET", "/v1/rooms/Standup", "", 200, strings.TrimSuffix(standupJSON(true), "}") +
			fmt.Sprintf(`,"speakers":[%q,%q],"people":[%s,%s],"people_more":0,"as":{"use_profile":true,"name":""},"my_name":""}`,
				self, bob, you, person(bob, "", "bob", "speaker", false))},
		{"POST", sp + "/name", `{"name":"Zed"}`, 204, ""},
		{"GET", "/v1/rooms/Standup", "", 200, strings.TrimSuffix(standupJSON(true), "}") +
			fmt.Sprintf(`,"speakers":[%q,%q],"people":[%s,%s],"people_more":0,"as":{"use_profile":false,"name":"Zed"},"my_name":"Zed"}`,
				self, bob, person(self, "Zed", "Zed (you)", "host", true), person(bob, "", "bob", "speaker", false))},
		{"GET", "/v1/rooms/" + town.String(), "", 200, strings.TrimSuffix(townJSON(true, 1), "}") +
			fmt.Sprintf(`,"speakers":[%q],"people":[%s,%s],"people_more":0,"as":{"use_profile":false,"name":""},"my_name":""}`,
				bob, person(bob, "", "bob", "host", false), person(self, "", "you", "listener", true))},
		{"POST", sp + "/mute", `{"peer":"bob","until":"2026-01-02T04:00:00Z"}`, 204, ""},
		{"POST", sp + "/messages/" + msg(3) + "/hide", "", 204, ""},
		{"GET", sp + "/chat?limit=10", "", 200, `{"messages":[]}`},
		{"POST", sp + "/leave", "", 204, ""},
		{"GET", "/v1/rooms", "", 200, `{"rooms":[` + standupJSON(false) + `,` + townJSON(true, 1) + `]}`},
		{"GET", "/v1/rooms/standup", "", 200, strings.TrimSuffix(standupJSON(false), "}") + `,"speakers":[],"people":[],"people_more":0,"my_name":""}`},
	}
	for i, tt := range tests {
		t.Run(fmt.Sprintf("%d %s %s", i, tt.method, tt.path), func(t *testing.T) {
			status, body := do(t, s, tt.method, tt.path, tt.body, nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d (body %s)", status, tt.status, body)
			}
			if got := strings.TrimSpace(string(body)); got != tt.want {
				t.Errorf("body\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
	if got := s.Fake.RoomRole(standup, bob); got != room.RoleSpeaker {
		t.Errorf("bob's role %v, want speaker", got)
	}
	if got, want := s.Fake.RoomMuted(standup, bob), time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("bob muted until %v, want %v", got, want)
	}
}

func TestRoomErrors(t *testing.T) {
	s := populated(t)
	town := s.Fake.AddRemoteRoom("Town Hall", "", bob)
	if _, err := s.Fake.JoinRoom(t.Context(), "Town Hall", nil); err != nil {
		t.Fatal(err)
	}
	q, err := s.Fake.RoomAsk(t.Context(), town, "why?")
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Fake.CreateRoom(t.Context(), "Dup", "", time.Time{}, nil); err != nil {
			t.Fatal(err)
		}
	}
	tp := "/v1/rooms/" + town.String()
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"create without name", "POST", "/v1/rooms", `{"description":"x"}`, 400, api.CodeBadRequest},
		{"create name too long", "POST", "/v1/rooms", `{"name":"` + strings.Repeat("n", room.MaxNameSize+1) + `"}`, 400, api.CodeInvalidRoom},
		{"join without ref", "POST", "/v1/rooms/join", `{}`, 400, api.CodeBadRequest},
		{"join unknown", "POST", "/v1/rooms/join", `{"ref":"nowhere"}`, 404, api.CodeNotFound},
		{"discover without name", "GET", "/v1/rooms/discover", "", 400, api.CodeBadRequest},
		{"unknown room name", "GET", "/v1/rooms/nowhere", "", 404, api.CodeNotFound},
		{"unknown room ID", "GET", "/v1/rooms/" + apitest.RoomID(99).String(), "", 404, api.CodeNotFound},
		{"ambiguous room name", "GET", "/v1/rooms/dup/chat", "", 409, api.CodeAmbiguous},
		{"empty text", "POST", tp + "/say", `{"text":" "}`, 400, api.CodeBadRequest},
		{"text too long", "POST", tp + "/ask", `{"text":"` + strings.Repeat("x", room.MaxBody) + `"}`, 413, api.CodeTooLarge},
		{"bad message ID", "POST", tp + "/questions/zz/upvote", "", 400, api.CodeBadRequest},
		{"unknown message", "POST", tp + "/questions/" + msg(200) + "/upvote", "", 404, api.CodeNotFound},
		{"answer as a listener", "POST", tp + "/questions/" + q.String() + "/answer", "", 403, api.CodeNotAllowed},
		{"pin as a listener", "POST", tp + "/messages/" + q.String() + "/pin", "", 403, api.CodeNotAllowed},
		{"grant as a listener", "POST", tp + "/grant", `{"peer":"bob","role":"moderator","ttl_seconds":60}`, 403, api.CodeNotAllowed},
		{"react without emoji", "POST", tp + "/messages/" + q.String() + "/react", `{}`, 400, api.CodeBadRequest},
		{"bad role", "POST", tp + "/grant", `{"peer":"bob","role":"king","ttl_seconds":60}`, 400, api.CodeBadRequest},
		{"ttl zero", "POST", tp + "/grant", `{"peer":"bob","role":"speaker"}`, 400, api.CodeBadRequest},
		{"ttl too long", "POST", tp + "/grant", `{"peer":"bob","role":"speaker","ttl_seconds":99999999}`, 400, api.CodeBadRequest},
		{"grant to unknown peer", "POST", tp + "/grant", `{"peer":"nobody","role":"speaker","ttl_seconds":60}`, 404, api.CodeUnknownPeer},
		{"mute without until", "POST", tp + "/mute", `{"peer":"bob"}`, 400, api.CodeBadRequest},
		{"bad chat limit", "GET", tp + "/chat?limit=0", "", 400, api.CodeBadRequest},
		{"chat limit too high", "GET", tp + "/chat?limit=1001", "", 400, api.CodeBadRequest},
		{"wrong method", "GET", tp + "/say", "", 405, api.CodeMethodNotAllowed},
		{"leave by an ambiguous name", "POST", "/v1/rooms/dup/leave", "", 409, api.CodeAmbiguous},
		{"name from the profile and given", "POST", tp + "/name", `{"use_profile":true,"name":"x"}`, 400, api.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, s, tt.method, tt.path, tt.body, nil)
			if status != tt.status {
				t.Fatalf("status %d, want %d (body %.200s)", status, tt.status, body)
			}
			if got := errorCode(t, body); got != tt.code {
				t.Errorf("code %q, want %q", got, tt.code)
			}
		})
	}
}

func TestRoomEvents(t *testing.T) {
	s := populated(t)
	town := s.Fake.AddRemoteRoom("Town Hall", "", bob)
	c, _, err := dialEvents(t, s, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	waitSubscribers(t, s.Fake, 1)

	id, err := s.Fake.RoomSpeak(town, bob, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	var got api.Event
	if err := wsjson.Read(t.Context(), c, &got); err != nil {
		t.Fatal(err)
	}
	want := api.RoomEvent{RoomID: town.String(), MessageID: id.String(), Kind: "chat"}
	if got.Type != "room_message" || got.Room == nil || *got.Room != want || got.Time == nil {
		t.Errorf("event %+v (room %+v), want room_message %+v", got, got.Room, want)
	}
}

func TestRoomAskSpeaker(t *testing.T) {
	s := populated(t)
	town := s.Fake.AddRemoteRoom("Town Hall", "questions for the mayor", bob)
	if status, body := do(t, s, "POST", "/v1/rooms/join", `{"ref":"Town Hall"}`, nil); status != 200 {
		t.Fatalf("join: %d %s", status, body)
	}
	path := "/v1/rooms/" + town.String() + "/ask-speaker"
	status, body := do(t, s, "POST", path, fmt.Sprintf(`{"peer":%q,"text":"a word in private?"}`, bob), nil)
	if status != 201 {
		t.Fatalf("ask the host: %d %s", status, body)
	}
	var m api.Message
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatal(err)
	}
	if m.PeerID != bob.String() || m.Text != "a word in private?" || m.Context != "room:"+town.String() {
		t.Fatalf("the question: %+v", m)
	}
	tests := []struct {
		name, body string
		status     int
		code       string
	}{
		{"not a speaker", fmt.Sprintf(`{"peer":%q,"text":"hi"}`, carol), 403, api.CodeNotSpeaker},
		{"no text", fmt.Sprintf(`{"peer":%q}`, bob), 400, api.CodeBadRequest},
		{"no peer", `{"text":"hi"}`, 400, api.CodeBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := do(t, s, "POST", path, tt.body, nil)
			if status != tt.status || !strings.Contains(string(body), `"code":"`+tt.code+`"`) {
				t.Fatalf("%d %s, want %d %s", status, body, tt.status, tt.code)
			}
		})
	}
}
