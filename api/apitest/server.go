package apitest

import (
	"context"
	"io/fs"
	"testing"

	"github.com/backchannel/backchannel/api"
)

// Server is an api.Server over a Fake, listening on loopback in a
// temporary home.
type Server struct {
	*api.Server
	Fake  *Fake
	Home  string
	Token string
}

// StartServer starts a server over a new Fake whose own peer ID is
// PeerID(0); the test's cleanup closes it.
func StartServer(t testing.TB) *Server {
	t.Helper()
	return StartServerWithUI(t, nil)
}

// StartServerWithUI is StartServer with a web UI (nil: none).
func StartServerWithUI(t testing.TB, ui fs.FS) *Server {
	t.Helper()
	home := t.TempDir()
	f := NewFake(PeerID(0))
	s, err := api.New(api.Config{Home: home, Backend: f.Backend(), UI: ui})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	tok, err := api.ReadToken(home)
	if err != nil {
		t.Fatal(err)
	}
	return &Server{Server: s, Fake: f, Home: home, Token: string(tok)}
}
