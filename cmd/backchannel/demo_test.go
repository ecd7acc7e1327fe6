package main

import (
	"context"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/demo"
)

// TestDemo runs `backchannel demo` as a newcomer would and checks, through
// the CLI, that everything it promises is there: the web UI at the printed
// address, two contacts' messages in the inbox, a stranger's request, and a
// live room with questions. Nothing leaves loopback.
func TestDemo(t *testing.T) {
	home := t.TempDir()
	var net *demo.Network
	demoStarted = func(n *demo.Network) { net = n }
	defer func() { demoStarted = nil }()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errs syncBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--home", home, "demo", "--pace", "200ms"}, &out, &errs)
	}()
	var uiURL string
	eventually(t, "the demo prints the UI's address", func() bool {
		select {
		case code := <-done:
			t.Fatalf("demo exited with %d: %s", code, errs.String())
		default:
		}
		m := regexp.MustCompile(`Open (` + loginLink.String() + `) in your browser`).FindStringSubmatch(out.String())
		if m != nil {
			uiURL = m[1]
		}
		return m != nil
	})
	// The printed link logs one browser in, once.
	status, page := openUI(t, uiURL)
	if status != http.StatusSeeOther || !isApp(page) || !strings.Contains(page, "<title>Backchannel</title>") {
		t.Errorf("GET %s: %d %.100s", uiURL, status, page)
	}
	if status, page := openUI(t, uiURL); status != http.StatusUnauthorized || isApp(page) {
		t.Errorf("GET %s again: %d %.100s", uiURL, status, page)
	}

	eventually(t, "Ada and Grace in the inbox", func() bool {
		in := inbox(t, home)
		return slices.ContainsFunc(in, func(c api.Conversation) bool { return c.Name == "Ada" }) &&
			slices.ContainsFunc(in, func(c api.Conversation) bool { return c.Name == "Grace" })
	})
	eventually(t, "the stranger's request", func() bool { return len(requests(t, home)) == 1 })
	rooms := decodeJSON[api.Rooms](t, ok(t, home, "room", "list", "--json")).Rooms
	if len(rooms) != 1 || rooms[0].Name != demo.RoomName || !rooms[0].Joined {
		t.Fatalf("rooms %+v", rooms)
	}
	eventually(t, "questions in the demo room", func() bool {
		return len(decodeJSON[api.RoomQuestions](t, ok(t, home, "room", "questions", rooms[0].ID, "--json")).Questions) >= 1
	})
	eventually(t, "an invitation to the demo group", func() bool {
		gs := decodeJSON[api.Groups](t, ok(t, home, "group", "list", "--json")).Groups
		return len(gs) == 1 && gs[0].Name == "Friday dinner" && gs[0].State == "invited"
	})

	cancel()
	if code := <-done; code != 0 {
		t.Errorf("demo exit %d: %s", code, errs.String())
	}
	if n := loopbackGater(t, home).Refused(); n != 0 {
		t.Errorf("the user's gater refused %d dials or connections", n)
	}
	if net == nil {
		t.Fatal("the demo network never started")
	}
	if n := net.Refused(); n != 0 {
		t.Errorf("the demo nodes' gaters refused %d dials or connections", n)
	}
}
