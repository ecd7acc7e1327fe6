package rooms

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/internal/loopback"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// signChat returns a chat line of sk in room id, number seq, and its encoding.
func signChat(t *testing.T, id room.ID, sk keys.PrivateKey, seq uint64, text string) (room.Message, []byte) {
	t.Helper()
	body, err := roomstate.EncodeChat(roomstate.ChatBody{Text: text})
	if err != nil {
		t.Fatal(err)
	}
	m := room.Message{Room: id, Kind: room.KindChat, Seq: seq, Timestamp: time.Now(), Body: body}
	if err := m.Sign(sk); err != nil {
		t.Fatal(err)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return m, data
}

// randomPeer returns a peer ID nobody in the test runs.
func randomPeer() peer.ID { return keys.GeneratePrivateKey().Public().PeerID() }

// TestValidatorIgnoresHeld: a listener's validator ignores a message it
// holds (stored, or at or below the sender's high-water mark, as a
// newcomer's floor leaves it), whoever forwards it, the host's included;
// replays do not spend the genuine sender's rate; and the host's messages
// are bounded per forwarder, though not when the host hands them over.
func TestValidatorIgnoresHeld(t *testing.T) {
	tn := newTestNet(t)
	host := newTestService(t, tn, "")
	listener := newTestService(t, tn, "")
	listener.connect(host)
	info, err := host.CreateRoom(t.Context(), "replays", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listener.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	lr, ok := listener.get(info.ID)
	if !ok {
		t.Fatal("room not joined")
	}
	rid := storage.RoomID(info.ID)

	// The host's line, as the listener received and stored it.
	said, err := host.RoomSay(t.Context(), info.ID, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	var hostLine []byte
	listener.waitUntil("the host's line stored", func() bool {
		_ = listener.store.View(func(tx *storage.Txn) error {
			rm, err := tx.RoomMessage(rid, said)
			hostLine = rm.Data
			return err
		})
		return hostLine != nil
	})

	alice, bob := keys.GeneratePrivateKey(), keys.GeneratePrivateKey()
	aliceM, aliceStored := signChat(t, info.ID, alice, 1, "stored")
	_, aliceNext := signChat(t, info.ID, alice, 2, "next")
	_, bobBelow := signChat(t, info.ID, bob, 5, "below the floor")
	_, bobAbove := signChat(t, info.ID, bob, 11, "above the floor")
	if err := listener.store.Update(func(tx *storage.Txn) error {
		if _, err := tx.PutRoomMessage(record(aliceM, aliceM.ID(), alice.Public().PeerID(), aliceStored, time.Now())); err != nil {
			return err
		}
		return tx.SkipRoomHistory(rid, bob.Public().PeerID(), 10)
	}); err != nil {
		t.Fatal(err)
	}

	relay := randomPeer()
	hostID := host.self()
	tests := []struct {
		name string
		from peer.ID
		data []byte
		want pubsub.Result
	}{
		{"stored, from a relay", relay, aliceStored, pubsub.Ignore},
		{"stored, from its author", alice.Public().PeerID(), aliceStored, pubsub.Ignore},
		{"below a newcomer's floor", relay, bobBelow, pubsub.Ignore},
		{"the host's, stored, from a relay", relay, hostLine, pubsub.Ignore},
		{"the host's, stored, from the host", hostID, hostLine, pubsub.Ignore},
		{"new", relay, aliceNext, pubsub.Accept},
		{"above a newcomer's floor", relay, bobAbove, pubsub.Accept},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := listener.validator(lr)
			if got, _ := v(t.Context(), tt.from, tt.data); got != tt.want {
				t.Fatalf("verdict %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("replays spend no sender's rate", func(t *testing.T) {
		v := listener.validator(lr)
		for range 4 * SenderBurst {
			if got, _ := v(t.Context(), relay, aliceStored); got != pubsub.Ignore {
				t.Fatalf("replay: %v, want ignore", got)
			}
		}
		for seq := range uint64(SenderBurst) {
			_, data := signChat(t, info.ID, alice, 100+seq, "fresh")
			if got, _ := v(t.Context(), relay, data); got != pubsub.Accept {
				t.Fatalf("alice's fresh line %d after the replays: %v, want accept", seq, got)
			}
		}
	})

	t.Run("the host's messages per forwarder", func(t *testing.T) {
		v := listener.validator(lr)
		hk := host.env.Identity.Signing()
		seq := uint64(1_000_000) // far past what the host has sent: nothing held
		next := func() []byte {
			seq++
			_, data := signChat(t, info.ID, hk, seq, "host line")
			return data
		}
		// A relay handing over the host's lines much faster than
		// HostForwardRate is cut off once its burst is spent.
		accepted := 0
		for accepted <= 50*HostForwardBurst {
			got, _ := v(t.Context(), relay, next())
			if got == pubsub.Ignore {
				break
			}
			if got != pubsub.Accept {
				t.Fatalf("host line from a relay: %v", got)
			}
			accepted++
		}
		if accepted < HostForwardBurst || accepted > 50*HostForwardBurst {
			t.Fatalf("a relay had %d host lines accepted, want its burst (%d) and then a refusal", accepted, HostForwardBurst)
		}
		if got, _ := v(t.Context(), randomPeer(), next()); got != pubsub.Accept {
			t.Fatalf("host line from another relay: %v, want accept", got)
		}
		for range 2 * HostForwardBurst {
			if got, _ := v(t.Context(), hostID, next()); got != pubsub.Accept {
				t.Fatalf("host line from the host: %v, want accept (the host is not limited in its room)", got)
			}
		}
	})
}

// logRecorder is a slog.Handler that signals on got each record match
// reports true of.
type logRecorder struct {
	mu    sync.Mutex
	match func(slog.Record) bool
	got   chan slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *logRecorder) WithGroup(string) slog.Handler            { return h }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	match := h.match
	h.mu.Unlock()
	if match != nil && match(r) {
		select {
		case h.got <- r:
		default:
		}
	}
	return nil
}

// attr returns r's attribute key as a string, or "".
func attr(r slog.Record, key string) string {
	var v string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == key {
			v = a.Value.String()
			return false
		}
		return true
	})
	return v
}

// rawTopic joins the room's topic from a bare GossipSub router (no rooms
// service, no DHT: it meets no one but to) that accepts anything, on a host
// of its own in the test's network, connected to to. It returns the topic
// and its host's ID.
func rawTopic(t *testing.T, tn *testNet, id room.ID, to *testService) (*pubsub.Topic, peer.ID) {
	t.Helper()
	key := keys.GeneratePrivateKey().Libp2p()
	var h host.Host
	var err error
	if tn.mn != nil {
		h, err = tn.newHost(key)
	} else {
		h, err = libp2p.New(libp2p.Identity(key), libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"),
			libp2p.ConnectionGater(&loopback.Gater{}), libp2p.DisableRelay())
	}
	if err != nil {
		t.Fatal(err)
	}
	ps, err := pubsub.New(t.Context(), pubsub.Config{Host: h, Heartbeat: 50 * time.Millisecond, SeenTTL: tn.seenTTL,
		MessageID: func(_ string, data []byte) string { return MessageID(data) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ps.Close()
		h.Close()
	})
	topic, err := ps.Join(Topic(id), func(context.Context, peer.ID, []byte) pubsub.Result { return pubsub.Accept })
	if err != nil {
		t.Fatal(err)
	}
	th := to.net.Host()
	if err := h.Connect(t.Context(), peer.AddrInfo{ID: th.ID(), Addrs: th.Addrs()}); err != nil {
		t.Fatal(err)
	}
	return topic, h.ID()
}

// TestRoomReplayAfterSeenCache: a third party replays the host's genuine
// line, byte for byte, once GossipSub's seen-message memory (shortened here
// to a moment; it is swept once a minute, so this test takes one) has
// forgotten it. The host's validator ignores it: it reaches no other member
// of the room (an observer, which has forgotten the line too, would get any
// forward), and no one stores or announces anything new.
func TestRoomReplayAfterSeenCache(t *testing.T) {
	if testing.Short() {
		t.Skip("waits for GossipSub's once-a-minute sweep of its seen messages")
	}
	tn := newTestNet(t)
	tn.seenTTL = 100 * time.Millisecond
	rec := &logRecorder{got: make(chan slog.Record, 1)}
	host := newTestService(t, tn, "", func(c *Config) { c.Env.Log = slog.New(rec) })
	listener := newTestService(t, tn, "")
	listener.connect(host)
	info, err := host.CreateRoom(t.Context(), "replayed", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listener.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	hlr, ok := host.get(info.ID)
	if !ok {
		t.Fatal("the host's room is not live")
	}
	observer, _ := rawTopic(t, tn, info.ID, host)
	hostID := host.self()
	host.waitUntil("the host to see the observer in the topic", func() bool { return len(hlr.topic.Peers()) == 2 })
	rid := storage.RoomID(info.ID)
	said, err := host.RoomSay(t.Context(), info.ID, "welcome")
	if err != nil {
		t.Fatal(err)
	}
	lineID := string(said[:])
	var line []byte
	for line == nil {
		select {
		case m := <-observer.Messages():
			if m.ID == lineID {
				line = m.Data
			}
		case <-time.After(time.Minute):
			t.Fatal("timed out waiting for the host's line at the observer")
		}
	}
	listener.waitUntil("the host's line stored", func() bool {
		var held bool
		_ = listener.store.View(func(tx *storage.Txn) (err error) {
			held, err = tx.HasRoomMessage(rid, said)
			return err
		})
		return held
	})
	// count counts the chat lines ts has stored (presence comes and goes).
	count := func(ts *testService) int {
		var n int
		if err := ts.store.View(func(tx *storage.Txn) error {
			ms, err := tx.RoomMessages(rid, 1000, time.Time{})
			for _, rm := range ms {
				if m, err := room.UnmarshalMessage(rm.Data); err == nil && m.Kind == room.KindChat {
					n++
				}
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
	before := map[*testService]int{host: count(host), listener: count(listener)}

	// The attacker joins after the line went round: it has not seen it.
	attacker, attackerID := rawTopic(t, tn, info.ID, host)
	rec.mu.Lock()
	rec.match = func(r slog.Record) bool {
		return r.Message == "room: message held already" && attr(r, "from") == attackerID.String()
	}
	rec.mu.Unlock()
	hostEvents, unsub := host.env.Bus.Subscribe()
	defer unsub()
	listenerEvents, unsubL := listener.env.Bus.Subscribe()
	defer unsubL()

	// The attacker publishes the line again and again: its own router
	// drops a publish of what it has delivered until its own sweep, and
	// then sends it to the host again.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(200 * time.Millisecond)
		defer tick.Stop()
		for {
			ctx, cancel := context.WithTimeout(t.Context(), time.Second)
			_ = attacker.Publish(ctx, line)
			cancel()
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	}()
	defer func() {
		close(stop)
		wg.Wait()
	}()

	// Wait for the host's verdict on the replay; a forward of it to the
	// observer fails the test at once.
	deadline := time.After(3 * time.Minute)
wait:
	for {
		select {
		case r := <-rec.got:
			t.Logf("host: %s", r.Message)
			break wait
		case m := <-observer.Messages():
			if m.ID == lineID && m.ReceivedFrom == hostID {
				t.Fatal("the host forwarded the replayed line")
			}
		case <-deadline:
			t.Fatal("timed out waiting for the replay to reach the host")
		}
	}

	// A line the host sends now reaches the observer after any forward of
	// the replay would have (the host's queue to it keeps order).
	next, err := host.RoomSay(t.Context(), info.ID, "after the replay")
	if err != nil {
		t.Fatal(err)
	}
	for got := false; !got; {
		select {
		case m := <-observer.Messages():
			if m.ID == lineID && m.ReceivedFrom == hostID {
				t.Fatal("the host forwarded the replayed line")
			}
			got = m.ID == string(next[:])
		case <-time.After(time.Minute):
			t.Fatal("timed out waiting for the host's next line at the observer")
		}
	}
	listener.waitUntil("the host's next line at the listener", func() bool {
		lines, _ := listener.RoomChat(info.ID, 0)
		for _, l := range lines {
			if l.ID == next {
				return true
			}
		}
		return false
	})
	// Nothing new but the next line was announced or stored (chat lines).
	for ts, events := range map[*testService]<-chan event.Event{host: hostEvents, listener: listenerEvents} {
		for drained := false; !drained; {
			select {
			case e := <-events:
				if e.Type == event.RoomMessage && e.Room != nil && e.Room.ID == said {
					t.Fatalf("%s announced the replayed line", ts.self().ShortString())
				}
			default:
				drained = true
			}
		}
	}
	for ts, n := range before {
		ts.waitUntil("the next line stored", func() bool { return count(ts) >= n+1 })
		if got := count(ts); got != n+1 {
			t.Fatalf("%s holds %d messages, want %d (those before and the next line)", ts.self().ShortString(), got, n+1)
		}
	}
}
