package node

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/internal/msgid"
	"github.com/backchannel/backchannel/node/rooms"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// roomState runs fn on a joined room's state, under its lock.
func roomState(t *testing.T, n *testNode, id room.ID, fn func(*roomstate.State)) {
	t.Helper()
	if err := n.rooms.State(id, fn); err != nil {
		t.Fatalf("%s is not in room %s: %v", n.ID().ShortString(), id, err)
	}
}

func roleOf(t *testing.T, n *testNode, id room.ID, p keys.PublicKey) (r roomstate.Role) {
	roomState(t, n, id, func(s *roomstate.State) { r = s.Role(p, time.Now()) })
	return r
}

// observer is a bare GossipSub peer in a room's topic that accepts anything
// and records what reaches it: what a node forwards to it, it sees.
type observer struct {
	rp    *rawPeer
	topic *pubsub.Topic
	mu    sync.Mutex
	got   map[room.MessageID]room.Message
}

func newObserver(t *testing.T, id room.ID, next *testNode) *observer {
	o := &observer{rp: newRawPeer(t), got: map[room.MessageID]room.Message{}}
	ps, err := pubsub.New(t.Context(), pubsub.Config{Host: o.rp.h, Heartbeat: 50 * time.Millisecond, MessageID: msgid.Of})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ps.Close() })
	if o.topic, err = ps.Join(rooms.Topic(id), func(context.Context, peer.ID, []byte) pubsub.Result { return pubsub.Accept }); err != nil {
		t.Fatal(err)
	}
	if err := o.rp.h.Connect(t.Context(), peer.AddrInfo{ID: next.ID(), Addrs: next.net.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	go func() { // ends when the PubSub closes the channel
		for msg := range o.topic.Messages() {
			if m, err := room.UnmarshalMessage(msg.Data); err == nil {
				o.mu.Lock()
				o.got[m.ID()] = m
				o.mu.Unlock()
			}
		}
	}()
	return o
}

func (o *observer) has(id room.MessageID) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, ok := o.got[id]
	return ok
}

// TestRoomModeration: the host grants a moderator, whose answer and hide take
// effect on every node; then an attacker next to a listener publishes as a
// muted peer, a role grant it signed itself and a hide under that grant. The
// listener's validator drops each of them: an observer that receives what the
// listener forwards never gets them, while it does get the host's next line
// through the listener, and no node's state changes.
func TestRoomModeration(t *testing.T) {
	host := newTestNode(t, "", fastRooms)
	boot := withBootstrap(host.Addrs()[0].String())
	mod := newTestNode(t, "", fastRooms, boot)
	listener := newTestNode(t, "", fastRooms, boot)
	info, err := host.CreateRoom(t.Context(), "moderated", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{mod, listener} {
		if _, err := n.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
			t.Fatal(err)
		}
	}
	everyone := []*testNode{host, mod, listener}

	moderateEndToEnd(t, info.ID, host, mod, listener)

	// The attacker and the observer, each connected only to the listener.
	obs := newObserver(t, info.ID, listener)
	atk := newRawPeer(t)
	aps, err := pubsub.New(t.Context(), pubsub.Config{Host: atk.h, Heartbeat: 50 * time.Millisecond, MessageID: msgid.Of})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { aps.Close() })
	atopic, err := aps.Join(rooms.Topic(info.ID), func(context.Context, peer.ID, []byte) pubsub.Result { return pubsub.Accept })
	if err != nil {
		t.Fatal(err)
	}
	if err := atk.h.Connect(t.Context(), peer.AddrInfo{ID: listener.ID(), Addrs: listener.net.Host().Addrs()}); err != nil {
		t.Fatal(err)
	}
	atkKey := atk.id.Public().Key
	if err := host.RoomMute(t.Context(), info.ID, atk.h.ID(), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	listener.waitUntil("the mute", func() bool {
		var muted bool
		roomState(t, listener, info.ID, func(s *roomstate.State) { muted = s.Muted(atkKey, time.Now()) })
		return muted
	})
	welcome, err := host.RoomSay(t.Context(), info.ID, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	listener.waitUntil("the welcome", func() bool { return roomHas(t, listener, info.ID, welcome) })

	bad, self := attackerMessages(t, info.ID, atk.id.Signing(), welcome)
	for _, m := range bad {
		data, err := m.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		pctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		err = atopic.Publish(pctx, data)
		cancel()
		if err != nil {
			t.Fatalf("the attacker could not publish: %v", err)
		}
	}

	// The host's next line reaches the observer only through the listener,
	// after everything the attacker sent reached the listener.
	marker, err := host.RoomSay(t.Context(), info.ID, "still here")
	if err != nil {
		t.Fatal(err)
	}
	listener.waitUntil("the observer gets the host's line through the listener", func() bool { return obs.has(marker) })
	for i, m := range bad {
		if obs.has(m.ID()) {
			t.Errorf("bad message %d (%s) was forwarded by the listener", i, m.Kind)
		}
		for _, n := range everyone {
			var seen bool
			roomState(t, n, info.ID, func(s *roomstate.State) { seen = s.Has(m.ID()) })
			if seen {
				t.Errorf("%s applied bad message %d (%s)", n.ID().ShortString(), i, m.Kind)
			}
		}
	}
	for _, n := range everyone {
		if roomHidden(t, n, info.ID, welcome) {
			t.Errorf("%s: the self-made moderator's hide took effect", n.ID().ShortString())
		}
		if r := roleOf(t, n, info.ID, self.Public()); r != roomstate.RoleListener {
			t.Errorf("%s: the self-granted key is a %s", n.ID().ShortString(), r)
		}
	}
}

// moderateEndToEnd: the host grants mod moderator; mod answers the
// listener's question and hides its line, on every node; the listener may
// do neither.
func moderateEndToEnd(t *testing.T, id room.ID, host, mod, listener *testNode) {
	t.Helper()
	everyone := []*testNode{host, mod, listener}
	// A moderator grant, end to end.
	modKey := mod.id.Public().Key
	if err := host.RoomGrant(t.Context(), id, mod.ID(), room.RoleModerator, time.Hour); err != nil {
		t.Fatal(err)
	}
	for _, n := range everyone {
		n.waitUntil("the moderator grant", func() bool { return roleOf(t, n, id, modKey) == roomstate.RoleModerator })
	}
	q, err := listener.RoomAsk(t.Context(), id, "will there be slides?")
	if err != nil {
		t.Fatal(err)
	}
	line, err := listener.RoomSay(t.Context(), id, "off-topic line")
	if err != nil {
		t.Fatal(err)
	}
	mod.waitUntil("the question and the line", func() bool { return hasQuestion(mod, id, q) && roomHas(t, mod, id, line) })
	if err := mod.RoomAnswer(t.Context(), id, q); err != nil {
		t.Fatal(err)
	}
	if err := mod.RoomHide(t.Context(), id, line); err != nil {
		t.Fatal(err)
	}
	for _, n := range everyone {
		n.waitUntil("the answer and the hide", func() bool {
			var answered, hidden bool
			roomState(t, n, id, func(s *roomstate.State) {
				hidden = s.Hidden(line)
				for _, qq := range s.Questions() {
					answered = answered || (qq.ID == q && qq.Answered)
				}
			})
			return answered && hidden
		})
	}
	// A listener may do neither.
	if err := listener.RoomHide(t.Context(), id, q); !errors.Is(err, ErrInvalidRoom) {
		t.Fatalf("a listener's hide: %v, want ErrInvalidRoom", err)
	}

}

// attackerMessages signs what the attacker publishes: a chat line of its
// muted key, and from another key of its own a moderator grant to itself
// and a hide of welcome under it. self is that other key.
func attackerMessages(t *testing.T, id room.ID, mutedKey keys.PrivateKey, welcome room.MessageID) (bad []room.Message, self keys.PrivateKey) {
	t.Helper()
	sign := func(sk keys.PrivateKey, seq uint64, kind room.Kind, body []byte, err error) room.Message {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		m := room.Message{Room: id, Kind: kind, Seq: seq, Timestamp: time.Now(), Body: body}
		if err := m.Sign(sk); err != nil {
			t.Fatal(err)
		}
		return m
	}
	chatBody, err := roomstate.EncodeChat(roomstate.ChatBody{Text: "I am muted"})
	muted := sign(mutedKey, 1, room.KindChat, chatBody, err)
	// Another key of the attacker's, not muted, grants itself moderator.
	self = keys.GeneratePrivateKey()
	g := room.RoleGrant{Room: id, Grantee: self.Public(), Role: room.RoleModerator, IssuedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}
	if err := g.Sign(self); err != nil {
		t.Fatal(err)
	}
	grantBody, err := roomstate.EncodeRoleGrant(g)
	fakeGrant := sign(self, 1, room.KindRoleGrant, grantBody, err)
	hideBody, err := roomstate.EncodeHide(welcome)
	fakeHide := sign(self, 2, room.KindHide, hideBody, err)
	return []room.Message{muted, fakeGrant, fakeHide}, self
}

func roomHas(t *testing.T, n *testNode, id room.ID, m room.MessageID) (ok bool) {
	roomState(t, n, id, func(s *roomstate.State) { ok = s.Has(m) })
	return ok
}

func roomHidden(t *testing.T, n *testNode, id room.ID, m room.MessageID) (ok bool) {
	roomState(t, n, id, func(s *roomstate.State) { ok = s.Hidden(m) })
	return ok
}

// TestRoomAskSpeaker: a listener's private question to the host lands in the
// host's requests, marked with the room; a question to another listener is
// refused.
func TestRoomAskSpeaker(t *testing.T) {
	host := newTestNode(t, "", fastRooms)
	boot := withBootstrap(host.Addrs()[0].String())
	a := newTestNode(t, "", fastRooms, boot)
	b := newTestNode(t, "", fastRooms, boot)
	info, err := host.CreateRoom(t.Context(), "ask me", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{a, b} {
		if _, err := n.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.RoomAskSpeaker(t.Context(), info.ID, b.ID(), "psst"); !errors.Is(err, ErrNotSpeaker) {
		t.Fatalf("a question to a listener: %v, want ErrNotSpeaker", err)
	}
	sent, err := a.RoomAskSpeaker(t.Context(), info.ID, host.ID(), "can I ask you something in private?")
	if err != nil {
		t.Fatal(err)
	}
	a.waitState(host.ID(), sent.ID, storage.StateDelivered)
	reqs, err := host.Requests()
	if err != nil {
		t.Fatal(err)
	}
	if !threadPeers(reqs)[a.ID()] {
		t.Fatalf("the question is not in the host's requests: %+v", reqs)
	}
	got := host.message(a.ID(), sent.ID)
	if id, ok := RoomFromContext(got.Context); !ok || id != info.ID {
		t.Fatalf("the question's context is %q, want room %s", got.Context, info.ID)
	}
	cs, err := host.Contacts()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Peer == a.ID() && c.Origin != RoomContext(info.ID) {
			t.Fatalf("the request's origin is %q, want %q", c.Origin, RoomContext(info.ID))
		}
	}
}

// TestRoomLeaveAnnounced: a listener that leaves stops being counted at
// once, not when its presence expires.
func TestRoomLeaveAnnounced(t *testing.T) {
	host := newTestNode(t, "", fastRooms)
	l := newTestNode(t, "", fastRooms, withBootstrap(host.Addrs()[0].String()))
	info, err := host.CreateRoom(t.Context(), "coming and going", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		who, err := host.RoomPeople(info.ID)
		if err != nil {
			t.Fatal(err)
		}
		return who.Listeners
	}
	host.waitUntil("the listener counted", func() bool { return count() == 1 }) // the host is a speaker
	if err := l.LeaveRoom(info.ID); err != nil {
		t.Fatal(err)
	}
	host.waitUntil("the listener no longer counted", func() bool { return count() == 0 })
}
