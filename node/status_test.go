package node

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestStatusTopics: a node's status lists the topics of its group and its
// room, by the group's name and the room's ID (never the group's topic
// name), each with its peer, its mesh peer and that peer's score.
func TestStatusTopics(t *testing.T) {
	nodes := newGroupNodes(t, 2, fastRooms)
	a, b := nodes[0], nodes[1]
	f := newGroup(t, "weekend plans", nodes)
	info, err := a.CreateRoom(t.Context(), "status", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	groupTopic, ok := a.groups.Topic(f.id)
	if !ok {
		t.Fatal("the group is not live")
	}
	// The group's current epoch; the one before may still be listed in its
	// grace window.
	want := map[string]string{"group": fmt.Sprintf("weekend plans (epoch %d)", a.groupEpoch(f.id)), "room": info.ID.String()}
	var st Status
	a.waitUntil("both topics meshed with b", func() bool {
		st = a.Status()
		found := 0
		for _, ts := range st.Topics {
			if want[ts.Kind] == ts.Name && ts.Peers == 1 && ts.MeshPeers == 1 &&
				len(ts.Lowest) == 1 && ts.Lowest[0].Peer == b.ID() {
				found++
			}
		}
		return found == 2
	})
	for _, ts := range st.Topics {
		if ts.Kind != "group" && ts.Kind != "room" {
			t.Errorf("topic %+v, want only the group's and the room's", ts)
		}
	}
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), groupTopic) {
		t.Errorf("status shows the group's topic %s", groupTopic)
	}
}
