package rooms

import (
	"bufio"
	"bytes"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/node/rooms/internal/roomspb"
)

// TestRoomArrivalID: a room message's GossipSub ID (MessageID) is its room
// message ID, which readRoom takes instead of hashing the message again.
func TestRoomArrivalID(t *testing.T) {
	m := room.Message{Room: room.ID{1}, Kind: room.KindChat, Seq: 1, Timestamp: time.Now(), Body: []byte("hi")}
	if err := m.Sign(keys.GeneratePrivateKey()); err != nil {
		t.Fatal(err)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, pubsubID := range []string{MessageID(data), ""} {
		if got := newArrival(m, data, pubsubID).id; got != m.ID() {
			t.Errorf("arrival under pubsub ID %x: ID %s, want %s", pubsubID, got, m.ID())
		}
	}
}

// FuzzReadSyncRequest: a room sync request frame decodes or fails with an
// error.
func FuzzReadSyncRequest(f *testing.F) {
	fr, _ := frame.Append(nil, &roomspb.SyncRequest{Room: make([]byte, 32), Newest: true, Limit: 10})
	f.Add(fr)
	fr, _ = frame.Append(nil, &roomspb.SyncRequest{Name: "a room"})
	f.Add(fr)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var req roomspb.SyncRequest
		_ = frame.Read(bufio.NewReader(bytes.NewReader(b)), &req, maxRequestFrame)
	})
}
