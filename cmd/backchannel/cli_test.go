package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
	"github.com/backchannel/backchannel/bench"
)

func TestMain(m *testing.M) {
	if os.Getenv(envRunMain) != "" {
		main() // a daemon for BenchmarkIdleDaemonRSS and TestBenchSmoke
	}
	if code, ok := bench.RunChild(); ok {
		os.Exit(code) // a node child process of TestBenchSmoke
	}
	time.Local = time.UTC // the CLI prints local times
	goleak.VerifyTestMain(m)
}

var (
	self     = apitest.PeerID(0)
	bob      = apitest.PeerID(1)
	stranger = apitest.PeerID(2)
)

// cli runs the command line against s's home and returns stdout, stderr
// and the exit status.
func cli(t *testing.T, home string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), append([]string{"--home", home}, args...), &out, &errb)
	return out.String(), errb.String(), code
}

// ok runs the command line and fails the test unless it succeeds.
func ok(t *testing.T, home string, args ...string) string {
	t.Helper()
	out, errs, code := cli(t, home, args...)
	if code != 0 {
		t.Fatalf("%v: exit %d: %s", args, code, errs)
	}
	return out
}

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

// sameJSON compares JSON texts, ignoring layout.
func sameJSON(t *testing.T, got, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad want: %v", err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	if !bytes.Equal(gb, wb) {
		t.Errorf("JSON\n%s\nwant\n%s", gb, wb)
	}
}

func TestJSONOutput(t *testing.T) {
	s := populated(t)
	h := s.Home
	sameJSON(t, ok(t, h, "id", "--json"), fmt.Sprintf(
		`{"peer_id":%q,"name":"","addrs":["/ip4/127.0.0.1/tcp/4001"],"invite":"backchannel://invite/%s"}`, self, self))
	sameJSON(t, ok(t, h, "id", "--one-time", "--json"), fmt.Sprintf(
		`{"peer_id":%q,"name":"","addrs":["/ip4/127.0.0.1/tcp/4001"],"invite":"backchannel://invite/%s&token=00112233445566778899aabbccddeeff"}`, self, self))
	sameJSON(t, ok(t, h, "status", "--json"), fmt.Sprintf(
		`{"peer_id":%q,"connected_peers":2,"dht_mode":"server","routing_table_size":2,"reachability":"private","listen_addrs":["/ip4/127.0.0.1/tcp/4001"],"observed_addrs":[],"relays":[],"links":[],"outbox_pending":0,"refused_connections":0,"topics":[]}`, self))
	sameJSON(t, ok(t, h, "contacts", "list", "--json"), fmt.Sprintf(`{"contacts":[`+
		`{"peer_id":%q,"state":"pending","name":"","profile_name":"","addrs":[],"verified":false,"created":"2026-01-02T03:04:06Z","updated":"2026-01-02T03:04:06Z"},`+
		`{"peer_id":%q,"state":"accepted","name":"bob","profile_name":"","addrs":[],"verified":false,"created":"2026-01-02T03:04:05Z","updated":"2026-01-02T03:04:05Z"}]}`, stranger, bob))
	sameJSON(t, ok(t, h, "send", "bob", "hello", "bob", "--json"), fmt.Sprintf(
		`{"id":"00000000000000000000000000000003","peer_id":%q,"direction":"outbound","kind":"text","text":"hello bob","sent":"2026-01-02T03:04:08Z","state":"sent"}`, bob))
	sameJSON(t, ok(t, h, "inbox", "--json"), fmt.Sprintf(`{"conversations":[{"peer_id":%q,"name":"bob","last":`+
		`{"id":"00000000000000000000000000000003","peer_id":%q,"direction":"outbound","kind":"text","text":"hello bob","sent":"2026-01-02T03:04:08Z","state":"sent"},`+
		`"count":2,"unread":1,"updated":"2026-01-02T03:04:08Z"}]}`, bob, bob))
	sameJSON(t, ok(t, h, "read", "bob", "--json", "--limit", "1"), fmt.Sprintf(`{"messages":[`+
		`{"id":"00000000000000000000000000000003","peer_id":%q,"direction":"outbound","kind":"text","text":"hello bob","sent":"2026-01-02T03:04:08Z","state":"sent"}]}`, bob))
	sameJSON(t, ok(t, h, "requests", "--json"), fmt.Sprintf(`{"conversations":[{"peer_id":%q,"name":"","last":`+
		`{"id":"00000000000000000000000000000002","peer_id":%q,"direction":"inbound","kind":"text","text":"hello?","sent":"2026-01-02T03:04:07Z","received":"2026-01-02T03:04:07Z","state":"received"},`+
		`"count":1,"unread":1,"updated":"2026-01-02T03:04:07Z"}]}`, stranger, stranger))
	sameJSON(t, ok(t, h, "contacts", "verify", "bob", "--confirm", "--json"), fmt.Sprintf(
		`{"peer_id":%q,"safety_number":"12345 67890 12345 67890 12345 67890 12345 67890 12345 67890 12345 67890","verified":true}`, bob))
	// read marked bob's thread read.
	sameJSON(t, ok(t, h, "inbox", "--json"), fmt.Sprintf(`{"conversations":[{"peer_id":%q,"name":"bob","last":`+
		`{"id":"00000000000000000000000000000003","peer_id":%q,"direction":"outbound","kind":"text","text":"hello bob","sent":"2026-01-02T03:04:08Z","state":"sent"},`+
		`"count":2,"unread":0,"updated":"2026-01-02T03:04:08Z"}]}`, bob, bob))
}

func TestTextOutput(t *testing.T) {
	s := populated(t)
	h := s.Home
	tests := []struct {
		args []string
		want []string // substrings of stdout
	}{
		{[]string{"id"}, []string{"peer ID", self.String(), "backchannel://invite/" + self.String()}},
		{[]string{"status"}, []string{"connected peers", "server mode, 2 peers", "private"}},
		{[]string{"contacts", "list"}, []string{"NAME", "bob", "accepted", bob.String(), "pending"}},
		{[]string{"inbox"}, []string{"PEER", "bob", "2026-01-02 03:04", "hi"}},
		{[]string{"requests"}, []string{stranger.String(), "hello?"}},
		{[]string{"send", "bob", "how", "are", "you"}, []string{"sent 00000000000000000000000000000003"}},
		{[]string{"read", bob.String()}, []string{"2026-01-02 03:04  bob: hi  [received 00000000000000000000000000000001]\n" +
			"2026-01-02 03:04  you: how are you  [sent 00000000000000000000000000000003]\n"}},
		{[]string{"send", "bob", "👍", "--react", "00000000000000000000000000000001"}, []string{"sent 00000000000000000000000000000004"}},
		{[]string{"contacts", "verify", "bob"}, []string{"12345 67890", "not verified", "--confirm"}},
		{[]string{"contacts", "add", apitest.PeerID(3).String(), "--name", "carol"}, []string{"added carol (" + apitest.PeerID(3).String() + ")"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out := ok(t, h, tt.args...)
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}

// TestStatusTopics: status lists the joined topics, a group's name escaped
// (a remote peer may have chosen it), with peers, mesh peers and the lowest
// scores; --json has them as the API gives them.
func TestStatusTopics(t *testing.T) {
	s := populated(t)
	s.Fake.State.Topics = []api.TopicStatus{
		{Kind: "room", Name: "roomid", Peers: 3, MeshPeers: 2,
			LowestScores: []api.PeerScore{{PeerID: stranger.String(), Score: -92.5}, {PeerID: bob.String(), Score: 1}}},
		{Kind: "group", Name: "evil\x1b[2Jname", Peers: 1, MeshPeers: 1, LowestScores: []api.PeerScore{}},
	}
	out := ok(t, s.Home, "status")
	for _, w := range []string{
		"room roomid: 3 peers, 2 in the mesh; lowest scores " + stranger.String() + " -92.5, " + bob.String() + " 1.0",
		`group evil\x1b[2Jname: 1 peers, 1 in the mesh`,
	} {
		if !strings.Contains(out, w) {
			t.Errorf("status lacks %q:\n%s", w, out)
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Errorf("status prints a raw escape:\n%q", out)
	}
	st := decodeJSON[api.Status](t, ok(t, s.Home, "status", "--json"))
	if len(st.Topics) != 2 || st.Topics[0].LowestScores[0].Score != -92.5 || st.Topics[1].Name != "evil\x1b[2Jname" {
		t.Errorf("status --json topics: %+v", st.Topics)
	}
}

func TestActions(t *testing.T) {
	s := populated(t)
	h := s.Home
	ok(t, h, "profile", "set", "Alice")
	if s.Fake.Self().Name != "Alice" {
		t.Error("profile name not set")
	}
	ok(t, h, "contacts", "block", "bob")
	if c, _ := s.Fake.Contact(bob); c.State != "blocked" {
		t.Errorf("bob %v after block", c.State)
	}
	ok(t, h, "contacts", "unblock", bob.String())
	if c, known := s.Fake.Contact(bob); known {
		t.Errorf("bob %v after unblock, want forgotten", c.State)
	}
	ok(t, h, "requests", "accept", stranger.String())
	if c, _ := s.Fake.Contact(stranger); c.State != "accepted" {
		t.Errorf("stranger %v after accept", c.State)
	}
	other := apitest.PeerID(4)
	s.Fake.AddStranger(other, "spam")
	ok(t, h, "requests", "block", other.String())
	if c, _ := s.Fake.Contact(other); c.State != "blocked" {
		t.Errorf("other %v after requests block", c.State)
	}
	third := apitest.PeerID(5)
	s.Fake.AddStranger(third, "spam")
	ok(t, h, "requests", "decline", third.String())
	if _, known := s.Fake.Contact(third); known {
		t.Error("declined stranger still known")
	}
}

func TestErrors(t *testing.T) {
	s := populated(t)
	empty := t.TempDir()
	tests := []struct {
		name string
		home string
		args []string
		want string // substring of stderr
	}{
		{"no daemon", empty, []string{"inbox"}, "backchannel: no daemon running for home " + empty + ": start it with `backchannel daemon`"},
		{"unknown peer", s.Home, []string{"send", "nobody", "hi"}, "unknown peer"},
		{"unknown peer hint", s.Home, []string{"read", "nobody"}, "backchannel contacts add"},
		{"too long", s.Home, []string{"send", "bob", strings.Repeat("x", apitest.MaxText+1)}, "too large"},
		{"bad reply id", s.Home, []string{"send", "bob", "x", "--reply-to", "nope"}, `--reply-to "nope": want a message ID`},
		{"missing args", s.Home, []string{"send", "bob"}, "requires at least 2 arg(s)"},
		{"bad limit", s.Home, []string{"read", "bob", "--limit", "5000"}, "limit"},
		{"unknown command", s.Home, []string{"frobnicate"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errs, code := cli(t, tt.home, tt.args...)
			if code == 0 {
				t.Fatalf("exit 0, stdout %s", out)
			}
			if !strings.Contains(errs, tt.want) {
				t.Errorf("stderr %q lacks %q", errs, tt.want)
			}
			if strings.Count(errs, "\n") != 1 {
				t.Errorf("stderr is not one line: %q", errs)
			}
		})
	}
}

func TestStaleAPIFile(t *testing.T) {
	s := apitest.StartServer(t)
	b, err := os.ReadFile(filepath.Join(s.Home, api.APIFileName))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// As if the daemon had been killed: api.json left behind.
	if err := os.WriteFile(filepath.Join(s.Home, api.APIFileName), b, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errs, code := cli(t, s.Home, "id")
	if code == 0 || !strings.Contains(errs, "no daemon running for home") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
}

func TestDefaultHome(t *testing.T) {
	t.Setenv("BACKCHANNEL_HOME", "/a")
	t.Setenv("XDG_DATA_HOME", "/x")
	if h, _ := defaultHome(); h != "/a" {
		t.Errorf("home %q, want $BACKCHANNEL_HOME", h)
	}
	t.Setenv("BACKCHANNEL_HOME", "")
	if h, _ := defaultHome(); h != "/x/backchannel" {
		t.Errorf("home %q, want $XDG_DATA_HOME/backchannel", h)
	}
	t.Setenv("XDG_DATA_HOME", "")
	t.Setenv("HOME", "/u")
	if h, _ := defaultHome(); h != "/u/.local/share/backchannel" {
		t.Errorf("home %q, want ~/.local/share/backchannel", h)
	}
}
