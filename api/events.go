package api

import (
	"context"
	"net/http"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// eventWriteTimeout bounds how long one event may take to reach a client;
// a client slower than that is dropped rather than holding the node's
// event fan-out.
const eventWriteTimeout = 10 * time.Second

// events serves GET /v1/events: a WebSocket over which the server writes
// one JSON Event per message. The client writes nothing (anything it
// writes closes the stream). Uses github.com/coder/websocket: maintained,
// context-aware, and handles the close handshake and pings for us.
func (s *Server) events(w http.ResponseWriter, r *http.Request) {
	// The WebSocket outlives the request as far as http.Server.Shutdown is
	// concerned (the connection is hijacked), so Close waits on s.wg.
	s.wg.Add(1)
	defer s.wg.Done()

	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		// guard already checked Origin against the loopback names of our
		// port; this only tells the library the same.
		OriginPatterns: []string{"127.0.0.1:*", "localhost:*"},
	})
	if err != nil {
		s.log.Debug("api: websocket accept", "err", err)
		return
	}
	defer c.CloseNow()

	events, cancel := s.cfg.Backend.Events.Subscribe()
	defer cancel()

	// CloseRead reads (and discards) what the client sends, answers pings,
	// and cancels ctx when the connection ends. It closes the connection at
	// once when its context ends, so it gets one that Close does not
	// cancel: on Close we say goodbye with a close frame instead.
	ctx := c.CloseRead(context.WithoutCancel(r.Context()))
	for {
		select {
		case <-s.ctx.Done():
			c.Close(websocket.StatusGoingAway, "daemon shutting down")
			return
		case <-ctx.Done():
			return
		case e, ok := <-events:
			if !ok {
				c.Close(websocket.StatusGoingAway, "event stream ended")
				return
			}
			if err := writeEvent(ctx, c, e); err != nil {
				s.log.Debug("api: websocket write", "err", err)
				return
			}
		}
	}
}

func writeEvent(ctx context.Context, c *websocket.Conn, e Event) error {
	ctx, cancel := context.WithTimeout(ctx, eventWriteTimeout)
	defer cancel()
	return wsjson.Write(ctx, c, e)
}
