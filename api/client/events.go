package client

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/backchannel/backchannel/api"
)

// Events streams the node's events to fn until ctx ends (then it returns
// nil), fn returns an error (which it returns) or the daemon closes the
// stream.
func (c *Client) Events(ctx context.Context, fn func(api.Event) error) error {
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(c.base, "http")+"/v1/events", &websocket.DialOptions{
		HTTPHeader: http.Header{"Authorization": {"Bearer " + c.token}},
	})
	if err != nil {
		return err
	}
	defer conn.CloseNow()
	conn.SetReadLimit(1 << 20)
	for {
		var e api.Event
		if err := wsjson.Read(ctx, conn, &e); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if s := websocket.CloseStatus(err); s == websocket.StatusGoingAway || s == websocket.StatusNormalClosure {
				return errors.New("the daemon closed the event stream")
			}
			return err
		}
		if err := fn(e); err != nil {
			conn.Close(websocket.StatusNormalClosure, "")
			return err
		}
	}
}
