package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
)

var (
	bob      = apitest.PeerID(1)
	stranger = apitest.PeerID(2)
	carol    = apitest.PeerID(3)
)

// populated starts a server whose fake knows bob (a contact, one message
// each way) and a stranger (one request).
func populated(t *testing.T) *apitest.Server {
	t.Helper()
	s := apitest.StartServer(t)
	if _, err := s.Fake.AddContact(t.Context(), bob.String(), "bob"); err != nil {
		t.Fatal(err)
	}
	s.Fake.Receive(bob, "hi")
	s.Fake.AddStranger(stranger, "hello?")
	return s
}

func TestEndpoints(t *testing.T) {
	s := populated(t)
	tests := []struct {
		method, path, body string
		status             int
		want               string // the exact JSON body, "" for none
	}{
		{"GET", "/v1/health", "", 200, `{"status":"ok"}`},
		{"GET", "/v1/id", "", 200, fmt.Sprintf(`{"peer_id":%q,"name":"","addrs":["/ip4/127.0.0.1/tcp/4001"],"invite":"backchannel://invite/%s"}`, apitest.PeerID(0), apitest.PeerID(0))},
		{"POST", "/v1/invites", `{"one_time":false}`, 200, fmt.Sprintf(`{"invite":"backchannel://invite/%s"}`, apitest.PeerID(0))},
		{"POST", "/v1/invites", `{"one_time":true}`, 200, fmt.Sprintf(`{"invite":"backchannel://invite/%s&token=00112233445566778899aabbccddeeff"}`, apitest.PeerID(0))},
		{"GET", "/v1/status", "", 200, fmt.Sprintf(`{"peer_id":%q,"connected_peers":2,"dht_mode":"server","routing_table_size":2,"reachability":"private","listen_addrs":["/ip4/127.0.0.1/tcp/4001"],"observed_addrs":[],"relays":[],"links":[],"outbox_pending":0,"refused_connections":0,"topics":[]}`, apitest.PeerID(0))},
		{"PUT", "/v1/profile", `{"name":"alice"}`, 204, ""},
		{"GET", "/v1/contacts", "", 200, fmt.Sprintf(`{"contacts":[`+
			`{"peer_id":%q,"state":"pending","name":"","profile_name":"","addrs":[],"verified":false,"created":"2026-01-02T03:04:06Z","updated":"2026-01-02T03:04:06Z"},`+
			`{"peer_id":%q,"state":"accepted","name":"bob","profile_name":"","addrs":[],"verified":false,"created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z"}]}`, stranger, bob)},
		{"POST", "/v1/contacts", fmt.Sprintf(`{"invite":"backchannel://invite/%s","name":"carol"}`, carol), 201,
			fmt.Sprintf(`{"peer_id":%q,"state":"accepted","name":"carol","profile_name":"","addrs":[],"verified":false,"created":"2026-01-02T03:04:07Z","updated":"2026-01-02T03:04:07Z"}`, carol)},
		{"GET", "/v1/contacts/bob/safety-number", "", 200, fmt.Sprintf(`{"peer_id":%q,"safety_number":"12345 67890 12345 67890 12345 67890 12345 67890 12345 67890 12345 67890","verified":false}`, bob)},
		{"POST", "/v1/contacts/bob/verify", "", 204, ""},
		{"GET", "/v1/contacts/" + bob.String() + "/safety-number", "", 200, fmt.Sprintf(`{"peer_id":%q,"safety_number":"12345 67890 12345 67890 12345 67890 12345 67890 12345 67890 12345 67890","verified":true}`, bob)},
		{"POST", "/v1/contacts/bob/verify", `{"verified":false}`, 204, ""},
		{"POST", "/v1/contacts/carol/block", "", 204, ""},
		{"POST", "/v1/contacts/carol/unblock", "", 204, ""},
		{"POST", "/v1/messages", `{"to":"bob","text":"hello bob"}`, 201,
			fmt.Sprintf(`{"id":"00000000000000000000000000000003","peer_id":%q,"direction":"outbound","kind":"text","text":"hello bob","sent":"2026-01-02T03:04:08Z","state":"sent"}`, bob)},
		{"POST", "/v1/messages", `{"to":"bob","text":"re","reply_to":"00000000000000000000000000000001"}`, 201,
			fmt.Sprintf(`{"id":"00000000000000000000000000000004","peer_id":%q,"direction":"outbound","kind":"reply","text":"re","reply_to":"00000000000000000000000000000001","sent":"2026-01-02T03:04:09Z","state":"sent"}`, bob)},
		{"POST", "/v1/conversations/bob/typing", `{"typing":true}`, 204, ""},
		{"GET", "/v1/inbox", "", 200, fmt.Sprintf(`{"conversations":[{"peer_id":%q,"name":"bob","last":`+
			`{"id":"00000000000000000000000000000004","peer_id":%q,"direction":"outbound","kind":"reply","text":"re","reply_to":"00000000000000000000000000000001","sent":"2026-01-02T03:04:09Z","state":"sent"},`+
			`"count":3,"unread":1,"updated":"2026-01-02T03:04:09Z"}]}`, bob, bob)},
		{"GET", "/v1/conversations/bob/messages?limit=1&before=2026-01-02T03:04:09Z", "", 200, fmt.Sprintf(`{"messages":[`+
			`{"id":"00000000000000000000000000000003","peer_id":%q,"direction":"outbound","kind":"text","text":"hello bob","sent":"2026-01-02T03:04:08Z","state":"sent"}]}`, bob)},
		{"POST", "/v1/conversations/bob/read", "", 204, ""},
		{"GET", "/v1/conversations/bob/messages?before=2026-01-02T03:04:07Z", "", 200, fmt.Sprintf(`{"messages":[`+
			`{"id":"00000000000000000000000000000001","peer_id":%q,"direction":"inbound","kind":"text","text":"hi","sent":"2026-01-02T03:04:06Z","received":"2026-01-02T03:04:06Z","state":"seen"}]}`, bob)},
		{"GET", "/v1/requests", "", 200, fmt.Sprintf(`{"conversations":[{"peer_id":%q,"name":"","last":`+
			`{"id":"00000000000000000000000000000002","peer_id":%q,"direction":"inbound","kind":"text","text":"hello?","sent":"2026-01-02T03:04:07Z","received":"2026-01-02T03:04:07Z","state":"received"},`+
			`"count":1,"unread":1,"updated":"2026-01-02T03:04:07Z"}]}`, stranger, stranger)},
		{"POST", "/v1/requests/" + stranger.String() + "/accept", "", 204, ""},
		{"GET", "/v1/requests", "", 200, `{"conversations":[]}`},
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
	// The side effects the 204s promised.
	self := s.Fake.Self()
	if self.Name != "alice" {
		t.Errorf("profile name %q", self.Name)
	}
	if c, known := s.Fake.Contact(carol); known {
		t.Errorf("carol %v after block and unblock, want forgotten", c.State)
	}
	if c, _ := s.Fake.Contact(stranger); c.State != "accepted" {
		t.Errorf("stranger %v after accept", c.State)
	}
	if !s.Fake.IsTyping(bob) {
		t.Error("typing not set")
	}
}

func TestRequestActions(t *testing.T) {
	for _, action := range []string{"decline", "block"} {
		t.Run(action, func(t *testing.T) {
			s := populated(t)
			status, body := do(t, s, "POST", "/v1/requests/"+stranger.String()+"/"+action, "", nil)
			if status != 204 {
				t.Fatalf("status %d: %s", status, body)
			}
			c, ok := s.Fake.Contact(stranger)
			switch action {
			case "decline":
				if ok {
					t.Errorf("stranger still known after decline: %+v", c)
				}
			case "block":
				if c.State != "blocked" {
					t.Errorf("stranger %v after block", c.State)
				}
			}
		})
	}
}

func TestErrors(t *testing.T) {
	s := populated(t)
	if err := s.Fake.Block(carol); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", apitest.MaxText+1)
	huge := strings.Repeat("x", api.MaxBodyBytes)
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"unknown peer", "POST", "/v1/messages", `{"to":"nobody","text":"hi"}`, 404, api.CodeUnknownPeer},
		{"unknown peer in path", "GET", "/v1/conversations/nobody/messages", "", 404, api.CodeUnknownPeer},
		{"text too long", "POST", "/v1/messages", `{"to":"bob","text":"` + long + `"}`, 413, api.CodeTooLarge},
		{"body too large", "POST", "/v1/messages", `{"to":"bob","text":"` + huge + `"}`, 413, api.CodeTooLarge},
		{"body too large, optional body", "POST", "/v1/contacts/bob/verify", `{"verified":"` + huge + `"}`, 413, api.CodeTooLarge},
		{"blocked", "POST", "/v1/messages", fmt.Sprintf(`{"to":%q,"text":"hi"}`, carol), 403, api.CodeBlocked},
		{"no text", "POST", "/v1/messages", `{"to":"bob"}`, 400, api.CodeBadRequest},
		{"bad kind", "POST", "/v1/messages", `{"to":"bob","text":"x","kind":"sticker"}`, 400, api.CodeBadRequest},
		{"reaction without target", "POST", "/v1/messages", `{"to":"bob","text":"+1","kind":"reaction"}`, 400, api.CodeBadRequest},
		{"bad reply_to", "POST", "/v1/messages", `{"to":"bob","text":"x","reply_to":"zz"}`, 400, api.CodeBadRequest},
		{"malformed JSON", "POST", "/v1/messages", `{"to":`, 400, api.CodeBadRequest},
		{"unknown field", "POST", "/v1/messages", `{"to":"bob","text":"x","extra":1}`, 400, api.CodeBadRequest},
		{"trailing data", "POST", "/v1/messages", `{"to":"bob","text":"x"} {}`, 400, api.CodeBadRequest},
		{"empty body", "POST", "/v1/messages", "", 400, api.CodeBadRequest},
		{"invalid invite", "POST", "/v1/contacts", `{"invite":"not an invite"}`, 400, api.CodeInvalidInvite},
		{"no invite", "POST", "/v1/contacts", `{}`, 400, api.CodeBadRequest},
		{"bad limit", "GET", "/v1/conversations/bob/messages?limit=0", "", 400, api.CodeBadRequest},
		{"limit too high", "GET", "/v1/conversations/bob/messages?limit=1001", "", 400, api.CodeBadRequest},
		{"bad before", "GET", "/v1/conversations/bob/messages?before=yesterday", "", 400, api.CodeBadRequest},
		{"accept a non-request", "POST", "/v1/requests/bob/accept", "", 404, api.CodeNotFound},
		{"profile too long", "PUT", "/v1/profile", `{"name":"` + strings.Repeat("n", 65) + `"}`, 413, api.CodeTooLarge},
		{"no such route", "GET", "/v2/id", "", 404, api.CodeNotFound},
		{"wrong method", "DELETE", "/v1/id", "", 405, api.CodeMethodNotAllowed},
		{"wrong method, pattern with a wildcard", "GET", "/v1/contacts/bob/block", "", 405, api.CodeMethodNotAllowed},
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

func TestAmbiguousName(t *testing.T) {
	s := populated(t)
	if _, err := s.Fake.AddContact(t.Context(), carol.String(), "bob"); err != nil {
		t.Fatal(err)
	}
	status, body := do(t, s, "POST", "/v1/messages", `{"to":"bob","text":"which?"}`, nil)
	if status != 409 || errorCode(t, body) != api.CodeAmbiguous {
		t.Errorf("status %d body %s, want 409 %s", status, body, api.CodeAmbiguous)
	}
}

func TestErrorBodyIsJSON(t *testing.T) {
	s := populated(t)
	_, body := do(t, s, "POST", "/v1/messages", `{"to":"nobody","text":"hi"}`, nil)
	var e map[string]any
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	if len(e) != 2 || e["code"] == nil || e["error"] == nil {
		t.Errorf("error body %s: want exactly error and code", body)
	}
}
