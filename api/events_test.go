package api_test

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
)

func dialEvents(t *testing.T, s *apitest.Server, token string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	return websocket.Dial(t.Context(), "ws://"+s.Addr()+"/v1/events", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + token}},
	})
}

// waitSubscribers waits until the fake has n subscribers.
func waitSubscribers(t *testing.T, f *apitest.Fake, n int) {
	t.Helper()
	for f.Subscribers() != n {
		if t.Context().Err() != nil {
			t.Fatal("gave up waiting for subscribers")
		}
		runtime.Gosched()
		time.Sleep(time.Millisecond)
	}
}

func TestEvents(t *testing.T) {
	s := populated(t)
	c, _, err := dialEvents(t, s, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	waitSubscribers(t, s.Fake, 1)

	m := s.Fake.Receive(bob, "are you there?")
	var got api.Event
	if err := wsjson.Read(t.Context(), c, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "message" || got.PeerID != bob.String() || got.Message == nil ||
		got.Message.Text != "are you there?" || got.Message.ID != m.ID || got.Message.State != "received" {
		t.Errorf("event %+v (message %+v)", got, got.Message)
	}

	at := time.Date(2026, 1, 2, 3, 5, 0, 0, time.UTC)
	s.Fake.Emit(api.Event{Type: "typing", PeerID: bob.String(), Typing: true, Time: &at})
	got = api.Event{}
	if err := wsjson.Read(t.Context(), c, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "typing" || !got.Typing || got.Time == nil || !got.Time.Equal(at) {
		t.Errorf("event %+v", got)
	}

	ct := api.Contact{PeerID: bob.String(), State: "accepted", Name: "bob", ProfileName: "Bob", Addrs: []string{}}
	s.Fake.Emit(api.Event{Type: "contact", PeerID: bob.String(), Contact: &ct})
	got = api.Event{}
	if err := wsjson.Read(t.Context(), c, &got); err != nil {
		t.Fatal(err)
	}
	if got.Type != "contact" || got.Contact == nil || got.Contact.ProfileName != "Bob" {
		t.Errorf("event %+v", got)
	}

	// The client leaving ends the subscription.
	c.Close(websocket.StatusNormalClosure, "")
	waitSubscribers(t, s.Fake, 0)
}

func TestEventsNeedToken(t *testing.T) {
	s := apitest.StartServer(t)
	_, resp, err := dialEvents(t, s, "wrong")
	if err == nil {
		t.Fatal("dial with a wrong token succeeded")
	}
	if resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("response %v, want 401", resp)
	}
}

func TestCloseEndsEventStreams(t *testing.T) {
	s := apitest.StartServer(t)
	c, _, err := dialEvents(t, s, s.Token)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	waitSubscribers(t, s.Fake, 1)
	// A client reads all the time; so does this one, answering the close
	// handshake.
	readErr := make(chan error, 1)
	go func() {
		_, _, err := c.Read(context.Background())
		readErr <- err
	}()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s.Fake.Subscribers() != 0 {
		t.Error("subscription still open after Close")
	}
	if err := <-readErr; websocket.CloseStatus(err) != websocket.StatusGoingAway {
		t.Errorf("read after Close: %v, want going away", err)
	}
}
