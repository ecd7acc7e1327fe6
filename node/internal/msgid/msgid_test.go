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
// and other topics, also after evicting.
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
	for k, r := range c.kinds {
		if len(r.ids) > cacheSize {
			t.Fatalf("cache %d holds %d IDs, bound %d", k, len(r.ids), cacheSize)
		}
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

// TestMsgIDCacheBytes: what the cache holds stays under its byte bound
// whatever the messages' sizes (GossipSub asks for the ID of any message a
// peer sends on a joined topic, before validation), a message too large to
// be valid is not kept at all, and every answer is still Of's.
func TestMsgIDCacheBytes(t *testing.T) {
	const (
		entries = 64
		bytes   = 64 << 10
		entry   = 16 << 10
	)
	tests := []struct {
		name  string
		topic string
		size  int // of each message
		count int
		held  int // entries the cache should hold at the end, -1: any within the bounds
	}{
		{"small room messages: the count binds", rooms.Topic([32]byte{1}), 100, 3 * entries, entries},
		{"large room messages: the bytes bind", rooms.Topic([32]byte{1}), 8 << 10, 3 * entries, -1},
		{"large group envelopes: the bytes bind", group.TopicPrefix + "abc", 12 << 10, 3 * entries, -1},
		{"oversized junk: not kept", group.TopicPrefix + "abc", entry + 1, 3 * entries, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newCache(entries, bytes, entry)
			for i := range tc.count {
				data := make([]byte, tc.size)
				copy(data, fmt.Sprint("message ", i))
				if got, want := c.ID(tc.topic, data), Of(tc.topic, data); got != want {
					t.Fatalf("message %d: cached ID differs", i)
				}
			}
			kind, _ := idKindOf(tc.topic)
			held := 0
			for k, id := range c.kinds[kind].ids {
				held += len(k) + len(id)
			}
			if held > bytes {
				t.Errorf("cache holds %d bytes, bound %d", held, bytes)
			}
			if n := len(c.kinds[kind].ids); n > entries || (tc.held >= 0 && n != tc.held) {
				t.Errorf("cache holds %d entries, want %d (bound %d)", n, tc.held, entries)
			}
		})
	}
}
