package node

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/internal/msgid"
	"github.com/backchannel/backchannel/node/rooms"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/pubsub"
)

// TestRoomRejectsBadMessages: an attacker inside the room's mesh publishes a
// forged message, one replayed from another room, a hide it may not send and
// a flood of 1,000 chat lines. The listener next to it drops them at its
// validator, so the host behind the listener never sees them (beyond the
// flood's first burst), and the room keeps working.
func TestRoomRejectsBadMessages(t *testing.T) {
	host := newTestNode(t, "", fastRooms)
	listener := newTestNode(t, "", fastRooms, withBootstrap(host.Addrs()[0].String()))
	info, err := host.CreateRoom(t.Context(), "guarded", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listener.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	real, err := host.RoomSay(t.Context(), info.ID, "welcome")
	if err != nil {
		t.Fatal(err)
	}

	// The attacker: a bare host with a GossipSub router that accepts anything,
	// connected only to the listener.
	rp := newRawPeer(t)
	ps, err := pubsub.New(t.Context(), pubsub.Config{Host: rp.h, Heartbeat: 50 * time.Millisecond, MessageID: msgid.Of})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	topic, err := ps.Join(rooms.Topic(info.ID), func(context.Context, peer.ID, []byte) pubsub.Result { return pubsub.Accept })
	if err != nil {
		t.Fatal(err)
	}
	if err := rp.h.Connect(t.Context(), peer.AddrInfo{ID: listener.ID(), Addrs: listener.net.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	sk := rp.id.Signing()
	seq := uint64(0)
	sign := func(roomID room.ID, kind room.Kind, body []byte) room.Message {
		seq++
		m := room.Message{Room: roomID, Kind: kind, Seq: seq, Timestamp: time.Now(), Body: body}
		if err := m.Sign(sk); err != nil {
			t.Fatal(err)
		}
		return m
	}
	enc := func(m room.Message) []byte {
		b, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	chat := func(s string) []byte {
		b, err := roomstate.EncodeChat(roomstate.ChatBody{Text: s})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	forged := sign(info.ID, room.KindChat, chat("forged"))
	forged.Signature[0] ^= 1
	other, _, err := room.NewID(keys.GeneratePrivateKey().Public())
	if err != nil {
		t.Fatal(err)
	}
	replayed := enc(sign(other, room.KindChat, chat("from another room")))
	hideBody, err := roomstate.EncodeHide(real)
	if err != nil {
		t.Fatal(err)
	}
	bad := [][]byte{enc(forged), replayed, enc(sign(info.ID, room.KindHide, hideBody))}
	const flood = 1000
	for i := range flood {
		bad = append(bad, enc(sign(info.ID, room.KindChat, chat(fmt.Sprint("spam ", i)))))
	}
	sent := 0
	for _, b := range bad {
		// Peer scoring soon prunes the attacker from the listener's mesh; its
		// publishes then find no peer and time out: that is the point.
		pctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err := topic.Publish(pctx, b)
		cancel()
		if err != nil {
			break
		}
		sent++
	}
	if sent == 0 {
		t.Fatal("the attacker never reached the mesh")
	}
	t.Logf("the attacker published %d of %d messages (scoring may push it out first)", sent, len(bad))

	// The room still works, and what the attacker sent before this line has
	// had time to arrive wherever it could.
	marker, err := listener.RoomSay(t.Context(), info.ID, "still here")
	if err != nil {
		t.Fatal(err)
	}
	host.waitUntil("the listener's line", func() bool {
		lines, _ := host.RoomChat(info.ID, 0)
		for _, l := range lines {
			if l.ID == marker {
				return true
			}
		}
		return false
	})
	for _, n := range []*testNode{listener, host} {
		checkAttackDropped(t, n, info.ID, real, flood)
	}
}

// checkAttackDropped fails the test if n's chat of the room shows the
// forged or replayed line, more of the flood than the sender limits let
// through, or lacks real (hidden by the attacker's hide).
func checkAttackDropped(t *testing.T, n *testNode, id room.ID, real room.MessageID, flood int) {
	t.Helper()
	lines, _ := n.RoomChat(id, 0)
	spam := 0
	for _, l := range lines {
		switch {
		case l.Text == "forged" || l.Text == "from another room":
			t.Fatalf("%s shows %q", n.ID().ShortString(), l.Text)
		case len(l.Text) > 5 && l.Text[:5] == "spam ":
			spam++
		case l.ID == real:
			continue
		}
	}
	if spam > rooms.SenderBurst+int(rooms.SenderRate)*10 {
		t.Fatalf("%s shows %d of %d flood lines", n.ID().ShortString(), spam, flood)
	}
	if !hasChat(lines, real) {
		t.Fatalf("%s: the attacker's hide took effect", n.ID().ShortString())
	}
}

func hasChat(lines []rooms.ChatLine, id room.MessageID) bool {
	for _, l := range lines {
		if l.ID == id {
			return true
		}
	}
	return false
}
