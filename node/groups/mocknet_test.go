package groups

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	lcrypto "github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/groupsync"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// netPeer is a node-less Service on a mocknet host, with GossipSub. Its
// control contents go straight to the recipient's HandleControl (a 1:1
// session that never fails).
type netPeer struct {
	s     *Service
	chats *directChats
}

// directChats hands queued control contents to the recipient's service
// when kicked, in one receive transaction each.
type directChats struct {
	t     testing.TB
	from  peer.ID
	peers map[peer.ID]*Service // shared by every peer of the test

	mu     sync.Mutex
	queued []queuedControl
}

func (c *directChats) Queue(_ *storage.Txn, to peer.ID, kind ControlKind, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queued = append(c.queued, queuedControl{to, kind, data})
	return nil
}

func (c *directChats) Kick([]peer.ID) {
	c.mu.Lock()
	qs := c.queued
	c.queued = nil
	c.mu.Unlock()
	for _, q := range qs {
		to := c.peers[q.to]
		var after []func()
		err := to.store.Update(func(tx *storage.Txn) error {
			in := &fakeInbound{tx: tx, p: c.from}
			err := to.HandleControl(in, Control{Kind: q.kind, Data: q.data, ID: newMessageID(), SentUnixNano: time.Now().UnixNano()})
			after = in.after
			return err
		})
		if err != nil {
			c.t.Errorf("control %d to %s: %v", q.kind, q.to, err)
			continue
		}
		for _, f := range after {
			go f() // as the 1:1 receive path does, outside its locks
		}
	}
}

func newNetPeers(t *testing.T, n int) []*netPeer {
	t.Helper()
	mn := mocknet.New()
	t.Cleanup(func() { mn.Close() })
	registry := map[peer.ID]*Service{}
	var out []*netPeer
	for range n {
		out = append(out, newNetPeer(t, mn, registry))
	}
	if err := mn.LinkAll(); err != nil {
		t.Fatal(err)
	}
	if err := mn.ConnectAllButSelf(); err != nil {
		t.Fatal(err)
	}
	return out
}

func newNetPeer(t *testing.T, mn mocknet.Mocknet, registry map[peer.ID]*Service) *netPeer {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	st, err := storage.Open(storage.Config{Dir: t.TempDir(), NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	id := identity.New()
	net, err := p2p.New(p2p.Config{Key: id.Signing().Libp2p(), Logger: log, NewHost: func(key lcrypto.PrivKey) (host.Host, error) {
		return mn.AddPeer(key, ma.StringCast(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", len(registry)+1)))
	}})
	if err != nil {
		t.Fatal(err)
	}
	life := env.NewLifetime()
	ps, err := pubsub.New(life.Context(), pubsub.Config{Host: net.Host(), Logger: log, Heartbeat: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	chats := &directChats{t: t, from: id.Public().Key.PeerID(), peers: registry}
	s := New(Config{
		Env:          env.Env{Store: st, Identity: id, Net: net, Bus: event.NewBus(), Log: log, Life: life, Clock: &env.SendClock{}},
		Chats:        chats,
		SyncInterval: 200 * time.Millisecond,
		ReceiptDelay: 100 * time.Millisecond,
		MaxTextBytes: 16 << 10,
		SyncRate:     100,
		SyncBurst:    100,
	})
	registry[chats.from] = s
	if err := s.Start(ps); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		life.Cancel()
		s.Close()
		ps.Close()
		life.ResetStreams()
		net.Close()
		life.Wait()
		st.Close()
	})
	return &netPeer{s: s, chats: chats}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (p *netPeer) lines(t *testing.T, id group.ID) []Message {
	t.Helper()
	ms, err := p.s.GroupMessages(id, 100, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestMocknetInviteSyncLeave: over a mocknet, an owner invites a member
// who accepts after messages were sent; history sync on
// /backchannel/groups/sync/1.0.0 brings them, a new message arrives, and
// leaving waits for the group's goroutines and drops its lock entry.
func TestMocknetInviteSyncLeave(t *testing.T) {
	start := time.Now()
	ps := newNetPeers(t, 2)
	owner, member := ps[0], ps[1]
	ctx := t.Context()
	info, err := owner.s.CreateGroup(ctx, "mock")
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.s.InviteToGroup(ctx, info.ID, member.s.selfID()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the invitation", func() bool {
		g, err := member.s.Group(info.ID)
		return err == nil && g.State == storage.GroupInvited && !g.KeyWaited
	})
	for _, body := range []string{"one", "two", "three"} {
		if _, err := owner.s.GroupSend(ctx, info.ID, Outgoing{Body: body}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := member.s.AcceptGroupInvite(ctx, info.ID); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the history", func() bool { return len(member.lines(t, info.ID)) == 3 })
	if _, err := owner.s.GroupSend(ctx, info.ID, Outgoing{Body: "four"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the new message", func() bool { return len(member.lines(t, info.ID)) == 4 })
	waitFor(t, "the owner to see it delivered", func() bool {
		ms := owner.lines(t, info.ID)
		return len(ms) == 4 && len(ms[0].DeliveredTo) == 1 && ms[0].DeliveredTo[0] == member.s.selfID()
	})

	if err := member.s.LeaveGroup(context.Background(), info.ID); err != nil {
		t.Fatal(err)
	}
	if _, live := member.s.get(info.ID); live {
		t.Fatal("the group is still live after leaving")
	}
	waitFor(t, "the owner to remove the leaver", func() bool {
		ms, err := owner.s.GroupMembers(info.ID)
		return err == nil && len(ms) == 1
	})
	// The owner may still be finishing the removal (a roster change, its
	// announcements) under the group's lock: wait for every lock to go.
	for _, p := range ps {
		waitFor(t, "every group lock released", func() bool {
			p.s.mu.Lock()
			defer p.s.mu.Unlock()
			return len(p.s.locks) == 0
		})
	}
	t.Logf("over mocknet in %v", time.Since(start))
}

// TestSyncRefusesStrangers: a peer in no epoch of the group learns nothing.
func TestSyncRefusesStrangers(t *testing.T) {
	ps := newNetPeers(t, 2)
	owner, stranger := ps[0], ps[1]
	info, err := owner.s.CreateGroup(t.Context(), "closed")
	if err != nil {
		t.Fatal(err)
	}
	_, err = groupsync.Ask(t.Context(), stranger.s.net.Host(), owner.s.selfID(), &groupspb.GroupSyncRequest{Group: info.ID[:]})
	if err == nil || !strings.Contains(err.Error(), "unknown group") {
		t.Fatalf("a stranger's sync: %v, want unknown group", err)
	}
}

func newMessageID() storage.MessageID {
	var id storage.MessageID
	_, _ = rand.Read(id[:])
	return id
}
