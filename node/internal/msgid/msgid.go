// Package msgid gives GossipSub its message IDs: content hashes, computed
// for room and group topics from the decoded message (a room message's ID,
// a group envelope's hash) so that a relay cannot make a corrupted copy that
// shadows the real one, and cached by the message's bytes, since GossipSub
// asks for the ID of every copy it receives. It is the one place that knows
// both formats; rooms and groups do not know each other.
package msgid

import (
	"crypto/sha256"
	"strings"
	"sync"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/rooms"
)

// Of gives GossipSub content-hash message IDs: on room topics the ID
// of the decoded, signed message (rooms.MessageID) and on group topics the
// envelope's Hash, so that a relay cannot make a corrupted copy that shadows
// the real one.
func Of(topic string, data []byte) string {
	switch {
	case strings.HasPrefix(topic, rooms.TopicPrefix):
		return rooms.MessageID(data)
	case strings.HasPrefix(topic, group.TopicPrefix):
		if e, err := group.UnmarshalEnvelope(data); err == nil {
			h := e.Hash()
			return string(h[:])
		}
	}
	sum := sha256.Sum256(append([]byte(topic+"\x00"), data...))
	return string(sum[:])
}

// Topic kinds whose message IDs Of decodes the message for, which is
// what makes caching them worth it.
const (
	idKindRoom = iota
	idKindGroup
	idKinds
)

func idKindOf(topic string) (int, bool) {
	switch {
	case strings.HasPrefix(topic, rooms.TopicPrefix):
		return idKindRoom, true
	case strings.HasPrefix(topic, group.TopicPrefix):
		return idKindGroup, true
	}
	return 0, false
}

// cacheSize bounds the room and group messages whose GossipSub IDs
// are kept: a few seconds of busy topics, well past the moments in which the
// copies of one message arrive from the mesh.
const cacheSize = 2048

// cacheBytes bounds, per kind, the bytes the cache holds (the messages it is
// keyed by and their IDs). The count alone is no bound: GossipSub asks for
// the ID of whatever a peer sends on a joined topic, before any validator
// looks at it, and an RPC may be 1 MiB, so 2,048 junk messages per kind
// would have pinned 2 GiB. Honest messages are small (a room message at
// most room.MaxMessageSize, a group envelope about 65 KiB at most): this
// holds over a hundred of the largest and the whole count of room messages.
const cacheBytes = 8 << 20

// maxCached is the largest message whose ID is cached; a larger one is
// not a valid room message or group envelope (its ID is computed again for
// every copy, and the validator rejects it, scoring its sender).
const maxCached = 128 << 10

// Cache remembers the GossipSub IDs of recent room and group messages
// by their bytes. GossipSub asks for the ID of every copy each mesh peer
// forwards, before it looks whether it has seen the message, and such an ID
// takes decoding the message and hashing its signed fields: caching it
// spares the copies after the first that work and its garbage. Lookups compare whole
// messages, so the cache can only ever answer what Of would. It holds at
// most cacheSize entries and cacheBytes bytes per kind, oldest evicted first.
type Cache struct {
	mu       sync.Mutex
	maxBytes int
	maxEntry int
	kinds    [idKinds]idRing // rooms', groups': the same bytes on each have other IDs
}

// idRing is a bounded map of IDs by message bytes, oldest evicted first.
type idRing struct {
	ids   map[string]string
	ring  []string // keys, oldest at head
	head  int
	n     int // keys in ring
	bytes int // of the keys and IDs held
}

// NewCache returns an empty cache; its ID method is a
// pubsub.Config.MessageID function.
func NewCache() *Cache { return newCache(cacheSize, cacheBytes, maxCached) }

func newCache(entries, bytes, entry int) *Cache {
	c := &Cache{maxBytes: bytes, maxEntry: entry}
	for i := range c.kinds {
		c.kinds[i] = idRing{ids: make(map[string]string), ring: make([]string, entries)}
	}
	return c
}

// ID returns the GossipSub message ID of data on topic.
func (c *Cache) ID(topic string, data []byte) string {
	kind, ok := idKindOf(topic)
	if !ok || len(data) > c.maxEntry {
		return Of(topic, data)
	}
	r := &c.kinds[kind]
	c.mu.Lock()
	id, ok := r.ids[string(data)]
	c.mu.Unlock()
	if ok {
		return id
	}
	id = Of(topic, data)
	key := string(data)
	c.mu.Lock()
	if _, ok := r.ids[key]; !ok {
		r.add(key, id, c.maxBytes)
	}
	c.mu.Unlock()
	return id
}

// add keeps key's id, evicting the oldest entries until it fits both
// bounds.
func (r *idRing) add(key, id string, maxBytes int) {
	size := len(key) + len(id)
	for r.n > 0 && (r.n == len(r.ring) || r.bytes+size > maxBytes) {
		old := r.ring[r.head]
		r.bytes -= len(old) + len(r.ids[old])
		delete(r.ids, old)
		r.ring[r.head] = ""
		r.head = (r.head + 1) % len(r.ring)
		r.n--
	}
	r.ids[key] = id
	r.ring[(r.head+r.n)%len(r.ring)] = key
	r.n++
	r.bytes += size
}
