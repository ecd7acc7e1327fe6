package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
)

var helper = apitest.PeerID(9)

func TestMailboxEndpoints(t *testing.T) {
	s := populated(t)
	s.Fake.SetMailboxesOf(bob, []api.KnownMailbox{{PeerID: helper.String(), Capability: true}})
	s.Fake.SetMailboxHeld(true, []api.MailboxHeld{{Recipient: carol.String(), Items: 3, StrangerItems: 1, Bytes: 4096}})
	tests := []struct {
		method, path, body string
		status             int
		want               string // the exact JSON body, "" for none
	}{
		{"GET", "/v1/mailboxes", "", 200, `{"mailboxes":[]}`},
		{"POST", "/v1/mailboxes", fmt.Sprintf(`{"peer":%q}`, helper), 201,
			fmt.Sprintf(`{"peer_id":%q,"issued":"2026-01-02T03:04:08Z","expires":"2026-04-02T03:04:08Z"}`, helper)},
		// A contact's name, for 30 days.
		{"POST", "/v1/mailboxes", `{"peer":"bob","days":30}`, 201,
			fmt.Sprintf(`{"peer_id":%q,"issued":"2026-01-02T03:04:09Z","expires":"2026-02-01T03:04:09Z"}`, bob)},
		{"POST", "/v1/mailboxes/drain", "", 204, ""},
		{"GET", "/v1/mailboxes", "", 200, fmt.Sprintf(`{"mailboxes":[`+
			`{"peer_id":%q,"issued":"2026-01-02T03:04:08Z","expires":"2026-04-02T03:04:08Z","last_drain":"2026-01-02T03:04:10Z"},`+
			`{"peer_id":%q,"issued":"2026-01-02T03:04:09Z","expires":"2026-02-01T03:04:09Z","last_drain":"2026-01-02T03:04:11Z"}]}`, helper, bob)},
		{"DELETE", "/v1/mailboxes/bob", "", 204, ""},
		{"GET", "/v1/mailboxes", "", 200, fmt.Sprintf(`{"mailboxes":[`+
			`{"peer_id":%q,"issued":"2026-01-02T03:04:08Z","expires":"2026-04-02T03:04:08Z","last_drain":"2026-01-02T03:04:10Z"}]}`, helper)},
		{"GET", "/v1/contacts/bob/mailboxes", "", 200, fmt.Sprintf(`{"peer_id":%q,"mailboxes":[{"peer_id":%q,"capability":true}]}`, bob, helper)},
		{"GET", "/v1/contacts/" + stranger.String() + "/mailboxes", "", 200, fmt.Sprintf(`{"peer_id":%q,"mailboxes":[]}`, stranger)},
		{"GET", "/v1/mailbox/held", "", 200, fmt.Sprintf(`{"held":[{"recipient":%q,"items":3,"stranger_items":1,"bytes":4096}]}`, carol)},
		{"GET", "/v1/mailbox/serve", "", 200, `{"helper":true,"contacts":false}`},
		{"PUT", "/v1/mailbox/serve", `{"contacts":true}`, 200, `{"helper":true,"contacts":true}`},
		{"GET", "/v1/mailbox/serve", "", 200, `{"helper":true,"contacts":true}`},
		{"PUT", "/v1/mailbox/serve", `{"contacts":false}`, 200, `{"helper":true,"contacts":false}`},
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

func TestMailboxErrors(t *testing.T) {
	s := populated(t)
	refuser := apitest.PeerID(10)
	s.Fake.RefuseMailbox(refuser, "not holding mail for strangers")
	for n := byte(20); n < 24; n++ {
		if _, err := s.Fake.AppointMailbox(t.Context(), apitest.PeerID(n), 0); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"no peer", "POST", "/v1/mailboxes", `{"days":3}`, 400, api.CodeBadRequest},
		{"negative days", "POST", "/v1/mailboxes", `{"peer":"bob","days":-1}`, 400, api.CodeBadRequest},
		{"too many days", "POST", "/v1/mailboxes", `{"peer":"bob","days":401}`, 400, api.CodeBadRequest},
		{"unknown field", "POST", "/v1/mailboxes", `{"peer":"bob","weeks":1}`, 400, api.CodeBadRequest},
		{"unknown name", "POST", "/v1/mailboxes", `{"peer":"nobody"}`, 404, api.CodeUnknownPeer},
		{"ourselves", "POST", "/v1/mailboxes", fmt.Sprintf(`{"peer":%q}`, apitest.PeerID(0)), 400, api.CodeBadRequest},
		{"refused", "POST", "/v1/mailboxes", fmt.Sprintf(`{"peer":%q}`, refuser), 409, api.CodeMailboxRefused},
		{"a fifth", "POST", "/v1/mailboxes", `{"peer":"bob"}`, 409, api.CodeMailboxRefused},
		{"revoke a non-mailbox", "DELETE", "/v1/mailboxes/bob", "", 404, api.CodeNotFound},
		{"revoke an unknown name", "DELETE", "/v1/mailboxes/nobody", "", 404, api.CodeUnknownPeer},
		{"serve without a body", "PUT", "/v1/mailbox/serve", "", 400, api.CodeBadRequest},
		{"mailboxes of an unknown name", "GET", "/v1/contacts/nobody/mailboxes", "", 404, api.CodeUnknownPeer},
		{"wrong method", "GET", "/v1/mailboxes/drain", "", 405, api.CodeMethodNotAllowed},
		// 405, not 404: the path takes DELETE.
		{"wrong method on a mailbox", "POST", "/v1/mailboxes/bob", "", 405, api.CodeMethodNotAllowed},
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
