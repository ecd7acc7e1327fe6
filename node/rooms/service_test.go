package rooms

import (
	"errors"
	"testing"
	"time"

	"github.com/backchannel/backchannel/node/errs"
)

// TestLeaveRoomWaits: when LeaveRoom returns, the room's goroutines
// (reader, publisher, timers, prune loop, DHT announcement) have ended and
// its topic is closed; the room is no longer joined, and Close is
// idempotent.
func TestLeaveRoomWaits(t *testing.T) {
	tn := newTestNet(t)
	host := newTestService(t, tn, "")
	listener := newTestService(t, tn, "")
	listener.connect(host)
	info, err := host.CreateRoom(t.Context(), "leaving", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listener.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	lr, ok := listener.get(info.ID)
	if !ok {
		t.Fatal("room not joined")
	}
	if err := listener.LeaveRoom(info.ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		lr.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(100 * time.Millisecond):
		t.Fatal("LeaveRoom returned before the room's goroutines ended")
	}
	select {
	case <-lr.published:
	default:
		t.Fatal("the publisher has not stopped")
	}
	if _, open := <-lr.topic.Messages(); open {
		t.Fatal("the room's topic is still delivering")
	}
	if _, err := listener.RoomSay(t.Context(), info.ID, "gone"); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("RoomSay after leaving: %v, want ErrNotFound", err)
	}
	if got, err := listener.Rooms(); err != nil || len(got) != 1 || got[0].Joined {
		t.Fatalf("Rooms after leaving: %+v, %v", got, err)
	}
	if err := listener.LeaveRoom(info.ID); !errors.Is(err, errs.ErrNotFound) {
		t.Fatalf("second LeaveRoom: %v, want ErrNotFound", err)
	}
	if err := host.Close(); err != nil {
		t.Fatal(err)
	}
	if err := host.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}
