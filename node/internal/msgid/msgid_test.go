package msgid

import (
	"fmt"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms"
)

// TestMsgIDCache: the cache answers what Of answers, for room, group
// and other topics, also after evicting, and holds a bounded number of
// fixed-size keys.
func TestMsgIDCache(t *testing.T) {
	c := NewCache()
	// The same bytes on a room, a group and another topic: each keeps its own ID.
	topics := []string{rooms.Topic([32]byte{1}), group.TopicPrefix + "abc", "/backchannel/other"}
	for round := range 2 {
		for i := range cacheSize + 100 {
			for _, topic := range topics {
				data := []byte(fmt.Sprint("message ", i))
				if got, want := c.ID(topic, data), Of(topic, data); got != want {
					t.Fatalf("round %d, %q on %s: cached ID differs", round, data, topic)
				}
			}
		}
	}
	if len(c.ids) > cacheSize {
		t.Fatalf("cache holds %d IDs, bound %d", len(c.ids), cacheSize)
	}
}

// TestRoomTopicMessageID: on a room's topic the node's GossipSub ID is the
// rooms' MessageID, the room message ID that readRoom takes as it is (see
// package rooms' TestRoomArrivalID).
func TestRoomTopicMessageID(t *testing.T) {
	m := room.Message{Room: room.ID{1}, Kind: room.KindChat, Seq: 1, Timestamp: time.Now(), Body: []byte("hi")}
	if err := m.Sign(keys.GeneratePrivateKey()); err != nil {
		t.Fatal(err)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	id := m.ID()
	if got := Of(rooms.Topic(m.Room), data); got != rooms.MessageID(data) || got != string(id[:]) {
		t.Errorf("room topic ID %x, want %x", got, id)
	}
}

// TestMsgIDCacheBytes: whatever the messages' sizes (GossipSub asks for
// the ID of any message a peer sends on a joined topic, before validation),
// the cache holds at most cacheSize entries of a fixed size: a 32-byte hash
// of the bytes and an ID of at most 64 bytes.
func TestMsgIDCacheBytes(t *testing.T) {
	c := NewCache()
	topic := rooms.Topic([32]byte{1})
	for i := range 2 * cacheSize {
		data := make([]byte, 64<<10)
		copy(data, fmt.Sprint("junk ", i))
		if got, want := c.ID(topic, data), Of(topic, data); got != want {
			t.Fatalf("message %d: cached ID differs", i)
		}
	}
	if len(c.ids) > cacheSize {
		t.Fatalf("cache holds %d entries, bound %d", len(c.ids), cacheSize)
	}
	for _, id := range c.ids {
		if len(id) > 64 {
			t.Fatalf("an ID of %d bytes", len(id))
		}
	}
}
