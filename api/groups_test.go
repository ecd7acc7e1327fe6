package api_test

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/coder/websocket/wsjson"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
)

func gmsg(n byte) string {
	id := apitest.GroupMessageID(n)
	return hex.EncodeToString(id[:])
}

func TestGroupEndpoints(t *testing.T) {
	s := populated(t)
	self := apitest.PeerID(0)
	invited := s.Fake.AddGroupInvite("Book club", bob) // group 1
	club := apitest.GroupID(2).String()
	gp := "/v1/groups/" + club
	clubJSON := func(name, role string, epoch, members int) string {
		return fmt.Sprintf(`{"id":%q,"name":%q,"state":"joined","epoch":%d,"role":%q,"member_count":%d,"unread":0,"key_pending":false}`, club, name, epoch, role, members)
	}
	invitedJSON := func(state string) string {
		return fmt.Sprintf(`{"id":%q,"name":"Book club","state":%q,"epoch":1,"role":"member","member_count":2,"inviter_id":%q,"unread":0,"key_pending":false}`, invited, state, bob)
	}
	me := fmt.Sprintf(`{"peer_id":%q,"role":"owner","display":"you","contact":false,"verified":false,"me":true}`, self)
	bobJSON := func(role string) string {
		return fmt.Sprintf(`{"peer_id":%q,"role":%q,"display":"bob","contact":true,"verified":false,"me":false}`, bob, role)
	}
	line := func(n byte, kind, text, extra string) string {
		return fmt.Sprintf(`{"id":%q,"sender_id":%q,"sender":%s,"kind":%q,"text":%q%s,"time":"2026-01-02T03:04:%02dZ","epoch":2,"outbound":true`, gmsg(n), self, me, kind, text, extra, 7+n)
	}
	tests := []struct {
		method, path, body string
		status             int
		want               string // the exact JSON body, "" for none
	}{
		{"GET", "/v1/groups", "", 200, `{"groups":[` + invitedJSON("invited") + `]}`},
		{"POST", "/v1/groups", `{"name":"Supper"}`, 201, clubJSON("Supper", "owner", 0, 1)},
		{"POST", gp + "/members", `{"peers":["bob",` + fmt.Sprintf("%q", carol) + `]}`, 204, ""},
		{"POST", "/v1/groups/Supper/members/bob/admin", `{"admin":true}`, 204, ""},
		{"GET", "/v1/groups/Supper", "", 200, strings.TrimSuffix(clubJSON("Supper", "owner", 2, 3), "}") +
			fmt.Sprintf(`,"members":[%s,%s,{"peer_id":%q,"role":"member","display":"…%s","contact":false,"verified":false,"me":false}]}`,
				me, bobJSON("admin"), carol, carol.String()[len(carol.String())-8:])},
		{"POST", gp + "/messages", `{"text":"hello"}`, 201, line(1, "text", "hello", "") + `,"reactions":[],"rsvps":[],"delivered_to":[],"read_by":[]}`},
		{"POST", gp + "/messages", `{"kind":"event","text":"Picnic","start":"2026-03-01T12:00:00Z"}`, 201,
			line(2, "event", "Picnic", `,"start":"2026-03-01T12:00:00Z"`) + `,"reactions":[],"rsvps":[],"delivered_to":[],"read_by":[]}`},
		{"POST", gp + "/messages", fmt.Sprintf(`{"kind":"reaction","text":"👍","reply_to":%q}`, gmsg(1)), 201,
			line(3, "reaction", "👍", fmt.Sprintf(`,"reply_to":%q`, gmsg(1))) + `,"reactions":[],"rsvps":[],"delivered_to":[],"read_by":[]}`},
		{"POST", gp + "/messages", fmt.Sprintf(`{"kind":"rsvp","text":"yes","reply_to":%q}`, gmsg(2)), 201,
			line(4, "rsvp", "yes", fmt.Sprintf(`,"reply_to":%q`, gmsg(2))) + `,"reactions":[],"rsvps":[],"delivered_to":[],"read_by":[]}`},
		{"GET", gp + "/messages?limit=2", "", 200, `{"messages":[` +
			line(2, "event", "Picnic", `,"start":"2026-03-01T12:00:00Z"`) + fmt.Sprintf(`,"reactions":[],"rsvps":[{"peer_id":%q,"answer":"yes"}],"delivered_to":[],"read_by":[]},`, self) +
			line(1, "text", "hello", "") + fmt.Sprintf(`,"reactions":[{"peer_id":%q,"emoji":"👍"}],"rsvps":[],"delivered_to":[],"read_by":[]}]}`, self)},
		{"POST", gp + "/members/" + carol.String() + "/remove", "", 204, ""},
		{"POST", gp + "/rekey", "", 204, ""},
		// Three roster changes; the rekey (epoch 4) changed no one.
		{"GET", gp + "/changes", "", 200, fmt.Sprintf(`{"changes":[`+
			`{"epoch":1,"signer_id":%[1]q,"added":[%[2]q,%[3]q],"removed":[],"admins":[],"not_admin":[]},`+
			`{"epoch":2,"signer_id":%[1]q,"added":[],"removed":[],"admins":[%[2]q],"not_admin":[]},`+
			`{"epoch":3,"signer_id":%[1]q,"added":[],"removed":[%[3]q],"admins":[],"not_admin":[]}]}`, self, bob, carol)},
		{"POST", gp + "/rename", `{"name":"Supper club"}`, 204, ""},
		{"POST", gp + "/read", "", 204, ""},
		{"GET", gp, "", 200, strings.TrimSuffix(clubJSON("Supper club", "owner", 4, 2), "}") +
			`,"members":[` + me + `,` + bobJSON("admin") + `]}`},
		{"POST", "/v1/groups/Book%20club/accept", "", 200, invitedJSON("joined")},
		{"POST", "/v1/groups/" + invited.String() + "/leave", "", 204, ""},
		// The group with something said comes first and carries its newest
		// text, reply or event (not the rename after it).
		{"GET", "/v1/groups", "", 200, `{"groups":[` + strings.TrimSuffix(clubJSON("Supper club", "owner", 4, 2), "}") + `,"last":` +
			line(2, "event", "Picnic", `,"start":"2026-03-01T12:00:00Z"`) + fmt.Sprintf(`,"reactions":[],"rsvps":[{"peer_id":%q,"answer":"yes"}],"delivered_to":[],"read_by":[]}}`, self) +
			`,` + invitedJSON("left") + `]}`},
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
}

// TestGroupMemberNames: a member who is no contact shows by the name it
// announced in the group, in the members and as the author of its lines,
// marked with the end of its peer ID when a contact goes by that name too;
// a contact by our name for it; the announcement is a "group_member" event
// of kind "profile".
func TestGroupMemberNames(t *testing.T) {
	s := populated(t)
	dave := apitest.PeerID(4)
	info, err := s.Fake.CreateGroup(t.Context(), "Names")
	if err != nil {
		t.Fatal(err)
	}
	id := apitest.GroupID(1)
	if err := s.Fake.InviteToGroup(t.Context(), id, bob, carol, dave); err != nil {
		t.Fatal(err)
	}
	c, _, err := dialEvents(t, s, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	waitSubscribers(t, s.Fake, 1)
	for p, name := range map[peer.ID]string{bob: "Robert", carol: "Carol", dave: "Bob"} {
		if err := s.Fake.AnnounceGroupName(id, p, name); err != nil {
			t.Fatal(err)
		}
	}
	var ev api.Event
	if err := wsjson.Read(t.Context(), c, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Type != "group_member" || ev.Group == nil || ev.Group.Kind != "profile" || ev.Group.MemberID != ev.PeerID || ev.Group.GroupID != info.ID {
		t.Errorf("event %+v (group %+v), want a group_member of kind profile", ev, ev.Group)
	}
	if _, err := s.Fake.GroupSpeak(id, carol, "who is in?"); err != nil {
		t.Fatal(err)
	}
	short := func(p peer.ID) string { return "…" + p.String()[len(p.String())-8:] }
	var d api.GroupDetail
	getJSON(t, s, "/v1/groups/Names", &d)
	want := map[string]api.GroupMember{
		bob.String():   {PeerID: bob.String(), Role: "member", Name: "Robert", Display: "bob", Contact: true},
		carol.String(): {PeerID: carol.String(), Role: "member", Name: "Carol", Display: "Carol"},
		dave.String():  {PeerID: dave.String(), Role: "member", Name: "Bob", Display: "Bob (" + short(dave) + ")"},
	}
	for _, m := range d.Members {
		if w, ok := want[m.PeerID]; ok && m != w {
			t.Errorf("member %+v, want %+v", m, w)
		}
	}
	var ms api.GroupMessages
	getJSON(t, s, "/v1/groups/Names/messages", &ms)
	if len(ms.Messages) != 1 || ms.Messages[0].Sender != want[carol.String()] {
		t.Errorf("messages %+v, want one from %+v", ms.Messages, want[carol.String()])
	}
}

// getJSON GETs path and decodes its 200 answer into v.
func getJSON(t *testing.T, s *apitest.Server, path string, v any) {
	t.Helper()
	status, body := do(t, s, "GET", path, "", nil)
	if status != 200 {
		t.Fatalf("GET %s: status %d (body %.200s)", path, status, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
}

func TestGroupErrors(t *testing.T) {
	s := populated(t)
	invited := s.Fake.AddGroupInvite("Book club", bob)
	if _, err := s.Fake.AcceptGroupInvite(t.Context(), invited); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := s.Fake.CreateGroup(t.Context(), "Dup"); err != nil {
			t.Fatal(err)
		}
	}
	bp := "/v1/groups/" + invited.String()
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"create without name", "POST", "/v1/groups", `{}`, 400, api.CodeBadRequest},
		{"create name too long", "POST", "/v1/groups", `{"name":"` + strings.Repeat("n", 101) + `"}`, 400, api.CodeInvalidGroup},
		{"unknown group name", "GET", "/v1/groups/nowhere", "", 404, api.CodeNotFound},
		{"unknown group ID", "GET", "/v1/groups/" + apitest.GroupID(99).String(), "", 404, api.CodeNotFound},
		{"ambiguous group name", "GET", "/v1/groups/Dup", "", 400, api.CodeInvalidGroup},
		{"invite as a member", "POST", bp + "/members", `{"peers":["bob"]}`, 403, api.CodeNotAllowed},
		{"invite nobody", "POST", bp + "/members", `{"peers":[]}`, 400, api.CodeBadRequest},
		{"invite an unknown name", "POST", bp + "/members", `{"peers":["nobody"]}`, 404, api.CodeUnknownPeer},
		{"remove as a member", "POST", bp + "/members/bob/remove", "", 403, api.CodeNotAllowed},
		{"admin as a member", "POST", bp + "/members/bob/admin", `{"admin":true}`, 403, api.CodeNotAllowed},
		{"rename as a member", "POST", bp + "/rename", `{"name":"mine"}`, 403, api.CodeNotAllowed},
		{"rename without name", "POST", bp + "/rename", `{}`, 400, api.CodeBadRequest},
		{"accept twice", "POST", bp + "/accept", "", 400, api.CodeInvalidGroup},
		{"empty text", "POST", bp + "/messages", `{"text":""}`, 400, api.CodeBadRequest},
		{"text too long", "POST", bp + "/messages", `{"text":"` + strings.Repeat("x", apitest.MaxText+1) + `"}`, 413, api.CodeTooLarge},
		{"bad reply ID", "POST", bp + "/messages", `{"text":"x","reply_to":"zz"}`, 400, api.CodeBadRequest},
		{"react to nothing", "POST", bp + "/messages", fmt.Sprintf(`{"kind":"reaction","text":"👍","reply_to":%q}`, gmsg(200)), 404, api.CodeNotFound},
		{"event without start", "POST", bp + "/messages", `{"kind":"event","text":"party"}`, 400, api.CodeInvalidGroup},
		{"bad limit", "GET", bp + "/messages?limit=0", "", 400, api.CodeBadRequest},
		{"bad before", "GET", bp + "/messages?before=yesterday", "", 400, api.CodeBadRequest},
		{"wrong method", "GET", bp + "/rekey", "", 405, api.CodeMethodNotAllowed},
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

func TestGroupEvents(t *testing.T) {
	s := populated(t)
	c, _, err := dialEvents(t, s, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	waitSubscribers(t, s.Fake, 1)

	invited := s.Fake.AddGroupInvite("Book club", bob)
	var got api.Event
	if err := wsjson.Read(t.Context(), c, &got); err != nil {
		t.Fatal(err)
	}
	want := api.GroupEvent{GroupID: invited.String(), Epoch: 1, State: "invited"}
	if got.Type != "group_invite" || got.Group == nil || *got.Group != want || got.PeerID != bob.String() {
		t.Errorf("event %+v (group %+v), want group_invite %+v", got, got.Group, want)
	}
	m, err := s.Fake.GroupSpeak(invited, bob, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	got = api.Event{}
	if err := wsjson.Read(t.Context(), c, &got); err != nil {
		t.Fatal(err)
	}
	want = api.GroupEvent{GroupID: invited.String(), Epoch: 1, MessageID: m.ID, Kind: "text"}
	if got.Type != "group_message" || got.Group == nil || *got.Group != want {
		t.Errorf("event %+v (group %+v), want group_message %+v", got, got.Group, want)
	}
}
