package nodeapi

import (
	"encoding/hex"
	"sync"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/node"
)

// Subscribe passes the node's events on, converted, until cancel. The
// node drops events for a subscriber that falls behind; so does this, as
// it passes them on one at a time.
func (a adapter) Subscribe() (<-chan api.Event, func()) {
	in, stop := a.n.Subscribe()
	out := make(chan api.Event)
	done := make(chan struct{})
	go func() {
		defer close(out)
		for e := range in {
			select {
			case out <- eventJSON(e):
			case <-done:
				return
			}
		}
	}()
	var once sync.Once
	return out, func() {
		once.Do(func() {
			close(done)
			stop()
		})
	}
}

func eventJSON(e node.Event) api.Event {
	j := api.Event{Type: e.Type, Typing: e.Typing, Time: optTime(e.Time)}
	if e.Peer != "" {
		j.PeerID = e.Peer.String()
	}
	if e.Message != nil {
		m := messageJSON(*e.Message)
		j.Message = &m
	}
	if e.Contact != nil {
		c := contactJSON(*e.Contact)
		j.Contact = &c
	}
	if e.Room != nil {
		j.Room = &api.RoomEvent{RoomID: e.Room.Room.String(), MessageID: e.Room.ID.String(), Kind: e.Room.Kind.String()}
	}
	if e.Group != nil {
		j.Group = groupEventJSON(*e.Group)
	}
	return j
}

func groupEventJSON(e node.GroupEvent) *api.GroupEvent {
	j := &api.GroupEvent{GroupID: e.Group.String(), Epoch: e.Epoch, Kind: e.Kind, State: e.State}
	if e.Message != ([32]byte{}) {
		j.MessageID = hex.EncodeToString(e.Message[:])
	}
	if e.Member != "" {
		j.MemberID = e.Member.String()
	}
	return j
}
