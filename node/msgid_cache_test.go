package node

import (
	"fmt"
	"testing"

	"github.com/backchannel/backchannel/crypto/group"
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
