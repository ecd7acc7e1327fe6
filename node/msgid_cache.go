package node

import (
	"strings"
	"sync"
)

// msgIDCacheSize bounds the room messages whose GossipSub IDs are kept:
// a few seconds of a busy room, well past the moments in which the copies of
// one message arrive from the mesh.
const msgIDCacheSize = 2048

// msgIDCache remembers the GossipSub IDs of recent room messages by their
// bytes. GossipSub asks for the ID of every copy each mesh peer forwards,
// before it looks whether it has seen the message, and a room message's ID
// takes decoding it and hashing its signed fields: caching it spares the
// copies after the first that work and its garbage. Lookups compare whole
// messages, so the cache can only ever answer what messageID would.
type msgIDCache struct {
	mu   sync.Mutex
	ids  map[string]string
	ring []string // keys, oldest evicted first
	next int
}

func newMsgIDCache() *msgIDCache {
	return &msgIDCache{ids: make(map[string]string, msgIDCacheSize), ring: make([]string, msgIDCacheSize)}
}

// id is a pubsub.Config.MessageID function.
func (c *msgIDCache) id(topic string, data []byte) string {
	if !strings.HasPrefix(topic, RoomTopicPrefix) {
		return messageID(topic, data)
	}
	c.mu.Lock()
	id, ok := c.ids[string(data)]
	c.mu.Unlock()
	if ok {
		return id
	}
	id = messageID(topic, data)
	key := string(data)
	c.mu.Lock()
	if _, ok := c.ids[key]; !ok {
		delete(c.ids, c.ring[c.next])
		c.ids[key] = id
		c.ring[c.next] = key
		c.next = (c.next + 1) % len(c.ring)
	}
	c.mu.Unlock()
	return id
}
