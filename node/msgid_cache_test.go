package node

import (
	"fmt"
	"testing"
)

// TestMsgIDCache: the cache answers what messageID answers, for room and
// other topics, also after evicting.
func TestMsgIDCache(t *testing.T) {
	c := newMsgIDCache()
	topics := []string{roomTopic([32]byte{1}), "/backchannel/other"}
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
	if len(c.ids) > msgIDCacheSize {
		t.Fatalf("cache holds %d IDs, bound %d", len(c.ids), msgIDCacheSize)
	}
}
