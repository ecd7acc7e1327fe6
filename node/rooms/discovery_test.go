package rooms

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/errs"
)

// provides reports whether ts's DHT holds a provider record of p under
// key: one that an ADD_PROVIDER from p put there.
func (ts *testService) provides(key cid.Cid, p peer.ID) bool {
	ts.t.Helper()
	ps, err := ts.net.DHT().ProviderStore().GetProviders(ts.t.Context(), key.Hash())
	if err != nil {
		ts.t.Fatal(err)
	}
	return slices.ContainsFunc(ps, func(ai peer.AddrInfo) bool { return ai.ID == p })
}

// waitCtx waits for cond, checking every 50 ms, until ctx ends.
func waitCtx(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestRoomAnnouncedOnFirstPeer: a room made while its host has no DHT
// peer (a daemon rejoining its rooms at start) is announced as soon as
// the host has one. Within 5 s of that first peer, the peer holds the
// host's provider records for the room's ID and name, and a node that
// knows only that peer finds the room by name.
func TestRoomAnnouncedOnFirstPeer(t *testing.T) {
	tn := newTestNet(t)
	host := newTestService(t, tn, "")
	first := newTestService(t, tn, "")
	seeker := newTestService(t, tn, "")
	seeker.connect(first)
	const name = "Announced Late"
	info, err := host.CreateRoom(t.Context(), name, "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}

	host.connect(first)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	waitCtx(t, ctx, "the first peer to hold the host's announcements", func() bool {
		return first.provides(roomCID(info.ID), host.self()) && first.provides(roomNameCID(name), host.self())
	})
	found, err := seeker.DiscoverRooms(ctx, "announced late")
	if err != nil {
		t.Fatalf("discover by name: %v", err)
	}
	if len(found) != 1 || found[0].ID != info.ID {
		t.Fatalf("found %+v, want room %s", found, info.ID)
	}
}

// TestRoomReprovided: a room is announced again every ReprovideInterval.
// A peer that connects to the host only after its first announcement
// holds the host's record later, which only a later ADD_PROVIDER from
// the host puts there.
func TestRoomReprovided(t *testing.T) {
	tn := newTestNet(t)
	host := newTestService(t, tn, "", func(c *Config) { c.ReprovideInterval = 200 * time.Millisecond })
	first := newTestService(t, tn, "")
	host.connect(first)
	info, err := host.CreateRoom(t.Context(), "reprovided", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	key := roomCID(info.ID)
	first.waitUntil("the first announcement", func() bool { return first.provides(key, host.self()) })

	late := newTestService(t, tn, "")
	late.connect(host)
	late.waitUntil("an announcement to the late peer", func() bool { return late.provides(key, host.self()) })
}

// announcers counts the goroutines that run a p2p.Provider.
func announcers() int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return strings.Count(string(buf[:n]), "node/p2p.Provider.Run(")
		}
		buf = make([]byte, 2*len(buf))
	}
}

// TestLeaveRoomEndsAnnouncing: each member's announcement loop runs while
// it is in the room, and a member's has ended when its LeaveRoom returns.
func TestLeaveRoomEndsAnnouncing(t *testing.T) {
	tn := newTestNet(t)
	host := newTestService(t, tn, "", func(c *Config) { c.ReprovideInterval = 200 * time.Millisecond })
	listener := newTestService(t, tn, "", func(c *Config) { c.ReprovideInterval = 200 * time.Millisecond })
	listener.connect(host)
	info, err := host.CreateRoom(t.Context(), "left", "", time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := listener.JoinRoom(t.Context(), info.ID.String(), nil); err != nil {
		t.Fatal(err)
	}
	listener.waitUntil("both members' announcement loops", func() bool { return announcers() == 2 })
	if err := listener.LeaveRoom(info.ID); err != nil {
		t.Fatal(err)
	}
	if n := announcers(); n != 1 {
		t.Fatalf("%d announcement loops after the listener left, want the host's alone", n)
	}
}

// TestJoinRoomNoPeers: a node connected to no one, with an empty DHT
// routing table, has no one to ask for a room: joining by name or by ID
// and discovering by name fail at once with errs.ErrNoPeers, well within
// a context far shorter than the searches' own deadlines (20 s and 30 s).
func TestJoinRoomNoPeers(t *testing.T) {
	tn := newTestNet(t)
	lone := newTestService(t, tn, "")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	calls := map[string]func() error{
		"join by name": func() error { _, err := lone.JoinRoom(ctx, "No Such Room", nil); return err },
		"join by ID":   func() error { _, err := lone.JoinRoom(ctx, room.ID{1}.String(), nil); return err },
		"discover":     func() error { _, err := lone.DiscoverRooms(ctx, "No Such Room"); return err },
	}
	for what, call := range calls {
		err := call()
		if ctx.Err() != nil {
			t.Fatalf("%s: returned only after the test's 2 s context ended (%v)", what, err)
		}
		if !errors.Is(err, errs.ErrNoPeers) {
			t.Fatalf("%s: error %v, want errs.ErrNoPeers", what, err)
		}
	}
}

// TestJoinRoomMissingAmongPeers: with peers to ask, a name no one knows
// is not found, and the error says how many peers were asked.
func TestJoinRoomMissingAmongPeers(t *testing.T) {
	tn := newTestNet(t)
	seeker := newTestService(t, tn, "")
	a := newTestService(t, tn, "")
	b := newTestService(t, tn, "")
	seeker.connect(a)
	seeker.connect(b)
	if _, err := a.CreateRoom(t.Context(), "Some Other Room", "", time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), time.Second)
	defer cancel()
	_, err := seeker.JoinRoom(ctx, "No Such Room", nil)
	if !errors.Is(err, errs.ErrNotFound) || errors.Is(err, errs.ErrNoPeers) {
		t.Fatalf("error %v, want errs.ErrNotFound", err)
	}
	if want := `no room named "No Such Room" found among 2 peers`; !strings.Contains(err.Error(), want) {
		t.Fatalf("error %q, want it to say %q", err, want)
	}
}
