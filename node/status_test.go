package node

import (
	"encoding/json"
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
	info, err := a.CreateRoom(t.Context(), "status", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.JoinRoom(t.Context(), info.ID.String()); err != nil {
		t.Fatal(err)
	}
	groupTopic, ok := a.groups.Topic(f.id)
	if !ok {
		t.Fatal("the group is not live")
	}
	want := map[string]string{"group": "weekend plans", "room": info.ID.String()}
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
	if len(st.Topics) != 2 {
		t.Errorf("topics %+v, want the group's and the room's", st.Topics)
	}
	js, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(js), groupTopic) {
		t.Errorf("status shows the group's topic %s", groupTopic)
	}
}
