package client_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"go.uber.org/goleak"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
	"github.com/backchannel/backchannel/api/client"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestFromHome(t *testing.T) {
	s := apitest.StartServer(t)
	c, err := client.FromHome(s.Home)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	self, err := c.Self(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if self.PeerID != apitest.PeerID(0).String() {
		t.Errorf("peer ID %s", self.PeerID)
	}
	if _, err := c.AddContact(ctx, apitest.PeerID(1).String(), "bob"); err != nil {
		t.Fatal(err)
	}
	m, err := c.Send(ctx, api.SendRequest{To: "bob", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	ms, err := c.Messages(ctx, "bob", 10, m.Sent.Add(1))
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 1 || ms[0].ID != m.ID {
		t.Errorf("messages %+v, want the one sent", ms)
	}
	if err := c.SetVerified(ctx, "bob", true); err != nil {
		t.Fatal(err)
	}
	sn, err := c.SafetyNumber(ctx, "bob")
	if err != nil || !sn.Verified {
		t.Errorf("safety number %+v, %v", sn, err)
	}
}

func TestErrors(t *testing.T) {
	s := apitest.StartServer(t)
	c, err := client.FromHome(s.Home)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Send(t.Context(), api.SendRequest{To: "nobody", Text: "hi"})
	var ae *client.Error
	if !errors.As(err, &ae) || ae.Code != api.CodeUnknownPeer || ae.Status != 404 || ae.Message == "" {
		t.Errorf("error %#v, want unknown_peer", err)
	}
	bad := client.New(s.Addr(), "wrong")
	if err := bad.Health(t.Context()); !errors.As(err, &ae) || ae.Code != api.CodeUnauthorized {
		t.Errorf("error %v, want unauthorized", err)
	}
}

func TestNoDaemon(t *testing.T) {
	home := t.TempDir()
	if _, err := client.FromHome(home); !errors.Is(err, client.ErrNoDaemon) {
		t.Errorf("empty home: %v, want ErrNoDaemon", err)
	}
	// A stale api.json (the daemon was killed): nothing answers.
	s := apitest.StartServer(t)
	b, err := os.ReadFile(filepath.Join(s.Home, api.APIFileName))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := api.ReadToken(s.Home)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(home, api.APIFileName), b, 0o600)
	os.WriteFile(filepath.Join(home, api.TokenFileName), tok, 0o600)
	c, err := client.FromHome(home)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Health(t.Context()); !errors.Is(err, client.ErrNoDaemon) {
		t.Errorf("stale api.json: %v, want ErrNoDaemon", err)
	}

	// A stale api.json whose process is gone: the client does not even
	// connect (the port may be someone else's by now).
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Skip("no true(1):", err)
	}
	stale := fmt.Sprintf(`{"addr":%q,"pid":%d}`, s.Addr(), cmd.Process.Pid)
	os.WriteFile(filepath.Join(home, api.APIFileName), []byte(stale), 0o600)
	if _, err := client.FromHome(home); !errors.Is(err, client.ErrNoDaemon) {
		t.Errorf("api.json of a dead process: %v, want ErrNoDaemon", err)
	}
}

func TestEvents(t *testing.T) {
	s := apitest.StartServer(t)
	c, err := client.FromHome(s.Home)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	got := make(chan api.Event, 1)
	done := make(chan error, 1)
	go func() {
		done <- c.Events(ctx, func(e api.Event) error { got <- e; cancel(); return nil })
	}()
	for s.Fake.Subscribers() == 0 {
		runtime.Gosched()
		if t.Context().Err() != nil {
			t.Fatal("no subscriber")
		}
	}
	s.Fake.Receive(apitest.PeerID(1), "ping")
	if e := <-got; e.Type != "message" || e.Message == nil || e.Message.Text != "ping" {
		t.Errorf("event %+v", e)
	}
	if err := <-done; err != nil {
		t.Errorf("Events: %v", err)
	}
}
