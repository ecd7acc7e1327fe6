package node

import "sync"

// msgIDCacheSize bounds the room and group messages whose GossipSub IDs
// are kept: a few seconds of busy topics, well past the moments in which the
// copies of one message arrive from the mesh.
const msgIDCacheSize = 2048

// msgIDCache remembers the GossipSub IDs of recent room and group messages
// by their bytes. GossipSub asks for the ID of every copy each mesh peer
// forwards, before it looks whether it has seen the message, and such an ID
// takes decoding the message and hashing its signed fields: caching it
// spares the copies after the first that work and its garbage. Lookups compare whole
// messages, so the cache can only ever answer what messageID would.
type msgIDCache struct {
	mu    sync.Mutex
	kinds [idKinds]idRing // rooms', groups': the same bytes on each have other IDs
}

// idRing is a bounded map of IDs by message bytes, oldest evicted first.
type idRing struct {
	ids  map[string]string
	ring []string
	next int
}

func newMsgIDCache() *msgIDCache {
	c := &msgIDCache{}
	for i := range c.kinds {
		c.kinds[i] = idRing{ids: make(map[string]string, msgIDCacheSize), ring: make([]string, msgIDCacheSize)}
	}
	return c
}

// id is a pubsub.Config.MessageID function.
func (c *msgIDCache) id(topic string, data []byte) string {
	kind, ok := idKindOf(topic)
	if !ok {
		return messageID(topic, data)
	}
	r := &c.kinds[kind]
	c.mu.Lock()
	id, ok := r.ids[string(data)]
	c.mu.Unlock()
	if ok {
		return id
	}
	id = messageID(topic, data)
	key := string(data)
	c.mu.Lock()
	if _, ok := r.ids[key]; !ok {
		delete(r.ids, r.ring[r.next])
		r.ids[key] = id
		r.ring[r.next] = key
		r.next = (r.next + 1) % len(r.ring)
	}
	c.mu.Unlock()
	return id
}
