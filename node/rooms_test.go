package node

import (
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms"
	"github.com/backchannel/backchannel/storage"
)

func fastRooms(c *Config) {
	c.PubSubHeartbeat = 50 * time.Millisecond
	c.RoomSyncInterval = 200 * time.Millisecond
}

// TestRoomChatAndQuestions: a host and 20 listeners that know only a
// bootstrap node find the room by its name through the DHT and join it; every
// listener gets every chat message, and the question queue ends in the same
// order everywhere.
func TestRoomChatAndQuestions(t *testing.T) {
	boot := newTestNode(t, "", fastRooms)
	bootAddr := boot.Addrs()[0].String()
	host := newTestNode(t, "", fastRooms, withBootstrap(bootAddr))
	info, err := host.CreateRoom(t.Context(), "Backchannel live", "a test room", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	listeners := 20
	if testing.Short() {
		listeners = 5
	}
	var ls []*testNode
	for range listeners {
		l := newTestNode(t, "", fastRooms, withBootstrap(bootAddr))
		got, err := l.JoinRoom(t.Context(), "backchannel LIVE", nil) // by name, any case
		if err != nil {
			t.Fatalf("join: %v", err)
		}
		if got.ID != info.ID {
			t.Fatalf("joined %s, want %s", got.ID, info.ID)
		}
		ls = append(ls, l)
	}
	everyone := append([]*testNode{host}, ls...)

	// Chat from the host and from every listener reaches everyone.
	want := map[string]bool{}
	for i, n := range everyone {
		text := fmt.Sprint("hello from ", i)
		if _, err := n.RoomSay(t.Context(), info.ID, text); err != nil {
			t.Fatal(err)
		}
		want[text] = true
	}
	for _, n := range everyone {
		n.waitUntil("all chat", func() bool {
			chat, _ := n.RoomChat(info.ID, 100)
			got := 0
			for _, c := range chat {
				if want[c.Text] {
					got++
				}
			}
			return got == len(want)
		})
	}

	// Questions with upvotes end in the same order on every node.
	q1, err := ls[0].RoomAsk(t.Context(), info.ID, "first question")
	if err != nil {
		t.Fatal(err)
	}
	q2, err := ls[1].RoomAsk(t.Context(), info.ID, "second question")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		for _, q := range []room.MessageID{q1, q2} {
			l.waitUntil("the questions", func() bool { return hasQuestion(l, info.ID, q) })
		}
		if err := l.RoomUpvote(t.Context(), info.ID, q2); err != nil {
			t.Fatal(err)
		}
	}
	if err := ls[2].RoomUpvote(t.Context(), info.ID, q1); err != nil {
		t.Fatal(err)
	}
	for _, n := range everyone {
		n.waitUntil("the ordered queue", func() bool {
			qs, _ := n.RoomQuestions(info.ID)
			return len(qs) == 2 && qs[0].ID == q2 && qs[0].Upvotes == listeners && qs[1].ID == q1 && qs[1].Upvotes == 1
		})
	}
}

func hasQuestion(n *testNode, id room.ID, q room.MessageID) bool {
	qs, _ := n.RoomQuestions(id)
	for _, x := range qs {
		if x.ID == q {
			return true
		}
	}
	return false
}

// TestRoomLateJoiner: a listener that joins after the talk started receives
// the recent messages with the moderation applied to them.
func TestRoomLateJoiner(t *testing.T) {
	host := newTestNode(t, "", fastRooms)
	early := newTestNode(t, "", fastRooms, withBootstrap(host.Addrs()[0].String()))
	info, err := host.CreateRoom(t.Context(), "late", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := early.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	var spam room.MessageID
	for i := range 30 {
		id, err := early.RoomSay(t.Context(), info.ID, fmt.Sprint("line ", i))
		if err != nil {
			t.Fatal(err)
		}
		if i == 7 {
			spam = id
		}
	}
	host.waitUntil("the early chat", func() bool {
		chat, _ := host.RoomChat(info.ID, 100)
		return len(chat) == 30
	})
	if err := host.RoomHide(t.Context(), info.ID, spam); err != nil {
		t.Fatal(err)
	}
	late := newTestNode(t, "", fastRooms, withBootstrap(host.Addrs()[0].String()))
	if _, err := late.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	late.waitUntil("history with the hide applied", func() bool {
		chat, _ := late.RoomChat(info.ID, 100)
		if len(chat) != 29 {
			return false
		}
		for _, c := range chat {
			if c.ID == spam {
				return false
			}
		}
		return true
	})
}

// TestRoomLateJoinerNewest: with more history than a late joiner gets, it
// gets the newest messages, not the oldest, and does not pull the older rest
// back later.
func TestRoomLateJoinerNewest(t *testing.T) {
	host := newTestNode(t, "", fastRooms, func(c *Config) { c.NoSync = true })
	info, err := host.CreateRoom(t.Context(), "long history", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	const lines = rooms.MaxHistory + 200
	ids := make([]room.MessageID, lines)
	for i := range lines {
		if ids[i], err = host.RoomSay(t.Context(), info.ID, fmt.Sprint("line ", i)); err != nil {
			t.Fatal(err)
		}
	}
	late := newTestNode(t, "", fastRooms, withBootstrap(host.Addrs()[0].String()))
	if _, err := late.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	// The newest lines, down to the 1,000th newest less the host's own
	// presence and room messages among them.
	late.waitUntil("the newest lines", func() bool {
		for _, id := range ids[lines-rooms.MaxHistory+10:] {
			if !roomHas(t, late, info.ID, id) {
				return false
			}
		}
		return true
	})
	// Its mark for the host gets past the older rest (given up, or filled by
	// what gossip carried), so no later sync asks for it.
	late.waitUntil("the mark past the older history", func() bool {
		var hw map[peer.ID]uint64
		if err := late.store.View(func(tx *storage.Txn) error {
			hw, err = tx.RoomHighWater(storage.RoomID(info.ID))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return hw[host.ID()] >= lines-rooms.MaxHistory
	})
}

// TestRoomGapRepair: a listener away for a while rejoins the room at start
// and fills the gap from the others.
func TestRoomGapRepair(t *testing.T) {
	// useTCP: its peer restarts under the same key.
	useTCP(t)
	host := newTestNode(t, "", fastRooms)
	boot := host.Addrs()[0].String()
	info, err := host.CreateRoom(t.Context(), "gaps", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	away := newTestNode(t, home, fastRooms, withBootstrap(boot))
	if _, err := away.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	away.stop()
	var missed []room.MessageID
	for i := range 15 {
		id, err := host.RoomSay(t.Context(), info.ID, fmt.Sprint("while you were away ", i))
		if err != nil {
			t.Fatal(err)
		}
		missed = append(missed, id)
	}
	back := newTestNode(t, home, fastRooms, withBootstrap(boot)) // rejoins its rooms
	back.waitUntil("the missed lines", func() bool {
		lines, _ := back.RoomChat(info.ID, 0)
		for _, id := range missed {
			if !hasChat(lines, id) {
				return false
			}
		}
		return true
	})
}

// TestRoomSeqAfterLostStore: our lines go out before they are stored, so a
// node killed in between comes back with a store lacking a line its peers
// hold. It must not give a new message that line's number (the host would
// refuse it as a second message under one number): the first sync after
// rejoining gives the line back before the node speaks again.
func TestRoomSeqAfterLostStore(t *testing.T) {
	// useTCP: b comes back under the same key.
	useTCP(t)
	host := newTestNode(t, "", fastRooms)
	info, err := host.CreateRoom(t.Context(), "lost store", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	boot := withBootstrap(host.Addrs()[0].String())
	say := func(nd *testNode, text string) room.MessageID {
		t.Helper()
		id, err := nd.RoomSay(t.Context(), info.ID, text)
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	storedAtHost := func(id room.MessageID) bool {
		var ok bool
		_ = host.store.View(func(tx *storage.Txn) error {
			ok, err = tx.HasRoomMessage(storage.RoomID(info.ID), id)
			return err
		})
		return ok
	}

	home := t.TempDir()
	b := newTestNode(t, home, fastRooms, boot)
	if _, err := b.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	one := say(b, "one")
	host.waitUntil("line one stored at the host", func() bool { return storedAtHost(one) })
	b.stop()
	// The store as it was before the next life's lines: coming back from it
	// is coming back from a kill after they were published, before stored.
	snapshot := t.TempDir()
	if err := os.CopyFS(snapshot, os.DirFS(home)); err != nil {
		t.Fatal(err)
	}

	b = newTestNode(t, home, fastRooms, boot)
	two := say(b, "two")
	host.waitUntil("line two stored at the host", func() bool { return storedAtHost(two) })
	b.stop()

	b = newTestNode(t, snapshot, fastRooms, boot)
	three := say(b, "three")
	host.waitUntil("line three stored at the host, not refused as a reused number", func() bool { return storedAtHost(three) })
	b.waitUntil("line two given back to its author", func() bool {
		chat, _ := b.RoomChat(info.ID, 10)
		return slices.ContainsFunc(chat, func(c rooms.ChatLine) bool { return c.ID == two })
	})
}

// TestRoomBallotsNode: with RoomBallotFrom lowered, a node's listeners hand
// their votes to the host, which tallies them: every node shows the same
// counts, and no node stores a vote message from a listener.
func TestRoomBallotsNode(t *testing.T) {
	ballots := func(c *Config) {
		fastRooms(c)
		c.RoomBallotFrom = 3
		c.RoomTallyInterval = 50 * time.Millisecond
	}
	host := newTestNode(t, "", ballots)
	info, err := host.CreateRoom(t.Context(), "tallied", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var ls []*testNode
	for range 4 {
		l := newTestNode(t, "", ballots, withBootstrap(host.Addrs()[0].String()))
		if _, err := l.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
	}
	everyone := append([]*testNode{host}, ls...)
	q, err := host.RoomAsk(t.Context(), info.ID, "anything?")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range ls {
		l.waitUntil("the question and everyone present", func() bool {
			p, _ := l.RoomPeople(info.ID)
			return hasQuestion(l, info.ID, q) && p.Listeners+len(p.Speakers) == len(everyone)
		})
	}
	for _, l := range ls {
		if err := l.RoomUpvote(t.Context(), info.ID, q); err != nil {
			t.Fatal(err)
		}
		if err := l.RoomReact(t.Context(), info.ID, q, "🙌"); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range everyone {
		n.waitUntil("the tallied counts", func() bool {
			qs, _ := n.RoomQuestions(info.ID)
			return len(qs) == 1 && qs[0].Upvotes == len(ls) && len(qs[0].Reactions) == 1 && qs[0].Reactions[0].Count == len(ls)
		})
	}
	for _, n := range everyone {
		if err := n.store.View(func(tx *storage.Txn) error {
			ms, err := tx.RoomMessages(storage.RoomID(info.ID), 10_000, time.Time{})
			for _, rm := range ms {
				if m, err := room.UnmarshalMessage(rm.Data); err == nil && (m.Kind == room.KindUpvote || m.Kind == room.KindReaction) {
					t.Errorf("%s stores a %s from %s: published, not handed", n.ID().ShortString(), m.Kind, rm.Sender.ShortString())
				}
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
}
