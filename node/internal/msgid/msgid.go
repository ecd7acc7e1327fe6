// Package msgid gives GossipSub its message IDs: content hashes. On room
// topics the ID is computed from the decoded message, so that a relay cannot
// make a corrupted copy that shadows the real one, and cached by a hash of
// the message's bytes, since GossipSub asks for the ID of every copy it
// receives. On every other topic (group topics among them: a group frame
// has one encoding, checked when it is opened) it is SHA-256 of the topic
// and the bytes.
package msgid

import (
	"crypto/sha256"
	"strings"
	"sync"

	"github.com/backchannel/backchannel/node/rooms"
)

// Of gives GossipSub content-hash message IDs: on room topics the ID of
// the decoded, signed message (rooms.MessageID), so that a relay cannot make
// a corrupted copy that shadows the real one; elsewhere SHA-256 of the topic
// and the bytes.
func Of(topic string, data []byte) string {
	if strings.HasPrefix(topic, rooms.TopicPrefix) {
		return rooms.MessageID(data)
	}
	h := sha256.New()
	h.Write([]byte(topic))
	h.Write([]byte{0})
	h.Write(data) // not appended to the topic: that copied every message
	return string(h.Sum(nil))
}

// cacheSize bounds the room messages whose GossipSub IDs
// are kept: a few seconds of busy topics, well past the moments in which the
// copies of one message arrive from the mesh.
const cacheSize = 2048

// Cache remembers the GossipSub IDs of recent room messages by the
// SHA-256 of their bytes (32 bytes a message, whatever a peer sends). GossipSub asks for the ID of every copy each mesh peer
// forwards, before it looks whether it has seen the message, and such an ID
// takes decoding the message and hashing its signed fields: caching it
// spares the copies after the first that work and its garbage. Lookups
// compare hashes of whole messages, so the cache answers what Of would.
type Cache struct {
	mu   sync.Mutex
	ids  map[[32]byte]string // by SHA-256 of the bytes, on room topics
	ring [][32]byte          // the keys, oldest evicted first
	next int
}

// NewCache returns an empty cache; its ID method is a
// pubsub.Config.MessageID function.
func NewCache() *Cache {
	return &Cache{ids: make(map[[32]byte]string, cacheSize), ring: make([][32]byte, cacheSize)}
}

// ID returns the GossipSub message ID of data on topic.
func (c *Cache) ID(topic string, data []byte) string {
	if !strings.HasPrefix(topic, rooms.TopicPrefix) {
		return Of(topic, data)
	}
	key := sha256.Sum256(data)
	c.mu.Lock()
	id, ok := c.ids[key]
	c.mu.Unlock()
	if ok {
		return id
	}
	id = Of(topic, data)
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
