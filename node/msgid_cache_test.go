package node

import (
	"fmt"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

// TestMsgIDCache: the cache answers what messageID answers, for room, group
// and other topics, also after evicting.
func TestMsgIDCache(t *testing.T) {
	c := newMsgIDCache()
	// The same bytes on a room, a group and another topic: each keeps its own ID.
	topics := []string{roomTopic([32]byte{1}), group.TopicPrefix + "abc", "/backchannel/other"}
	for round := range 2 {
		for i := range msgIDCacheSize + 100 {
			for _, topic := range topics {
				data := []byte(fmt.Sprint("message ", i))
				if got, want := c.id(topic, data), messageID(topic, data); got != want {
					t.Fatalf("round %d, %q on %s: cached ID differs", round, data, topic)
				}
			}
		}
	}
	for k, r := range c.kinds {
		if len(r.ids) > msgIDCacheSize {
			t.Fatalf("cache %d holds %d IDs, bound %d", k, len(r.ids), msgIDCacheSize)
		}
	}
}

// TestRoomArrivalID: a room message's GossipSub ID is its room message ID,
// which readRoom takes instead of hashing the message again.
func TestRoomArrivalID(t *testing.T) {
	m := room.Message{Room: room.ID{1}, Kind: room.KindChat, Seq: 1, Timestamp: time.Now(), Body: []byte("hi")}
	if err := m.Sign(keys.GeneratePrivateKey()); err != nil {
		t.Fatal(err)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for _, pubsubID := range []string{messageID(roomTopic(m.Room), data), ""} {
		if got := newRoomArrival(m, data, pubsubID).id; got != m.ID() {
			t.Errorf("arrival under pubsub ID %x: ID %s, want %s", pubsubID, got, m.ID())
		}
	}
}
