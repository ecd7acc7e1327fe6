package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api"
)

// TestOutboxEndpoints: what waits is listed; cancel takes an ID or a unique
// prefix, refuses a short, ambiguous or unknown one, and the message then
// shows failed; a send with a key already used returns the first message.
func TestOutboxEndpoints(t *testing.T) {
	s := populated(t)
	call := func(method, path, body string, want int) string {
		t.Helper()
		status, b := do(t, s, method, path, body, nil)
		if status != want {
			t.Fatalf("%s %s: status %d, want %d (body %s)", method, path, status, want, b)
		}
		return strings.TrimSpace(string(b))
	}
	first := call("POST", "/v1/messages", `{"to":"bob","text":"one","key":"a"}`, 201)
	if again := call("POST", "/v1/messages", `{"to":"bob","text":"one","key":"a"}`, 201); again != first {
		t.Errorf("a retried send answered %s, want %s", again, first)
	}
	call("POST", "/v1/messages", `{"to":"bob","text":"two"}`, 201)
	list := call("GET", "/v1/outbox", "", 200)
	if strings.Count(list, `"text":"one"`) != 1 || !strings.Contains(list, `"text":"two"`) {
		t.Errorf("outbox: %s", list)
	}
	var m api.Message
	if err := json.Unmarshal([]byte(first), &m); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ref    string
		status int
	}{
		{m.ID[:4], 400},       // too short
		{"zzzzzz", 400},       // not hex
		{"00000000", 400},     // both waiting messages start so
		{"ffffffffffff", 404}, // none
	} {
		call("POST", "/v1/outbox/"+tc.ref+"/cancel", "", tc.status)
	}
	var cancelled api.Message
	if err := json.Unmarshal([]byte(call("POST", "/v1/outbox/"+m.ID+"/cancel", "", 200)), &cancelled); err != nil || cancelled.State != "failed" {
		t.Errorf("cancelled: %+v, %v", cancelled, err)
	}
	if list := call("GET", "/v1/outbox", "", 200); strings.Contains(list, `"text":"one"`) {
		t.Errorf("cancelled message still waiting: %s", list)
	}
}
