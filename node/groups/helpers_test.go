package groups

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/internal/env"
	"github.com/backchannel/backchannel/storage"
)

// queuedControl is what fakeChats was asked to queue.
type queuedControl struct {
	to   peer.ID
	kind ControlKind
	data []byte
}

// fakeChats records what groups queue for 1:1 delivery.
type fakeChats struct {
	mu     sync.Mutex
	queued []queuedControl
	kicked []peer.ID
}

func (c *fakeChats) Queue(_ *storage.Txn, to peer.ID, kind ControlKind, data []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.queued = append(c.queued, queuedControl{to, kind, data})
	return nil
}

func (c *fakeChats) Kick(peers []peer.ID) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.kicked = append(c.kicked, peers...)
}

// fakeInbound is a 1:1 receive transaction.
type fakeInbound struct {
	tx       *storage.Txn
	p        peer.ID
	stranger bool
	stored   []storage.Message
	events   []event.Event
	after    []func()
}

func (i *fakeInbound) Txn() *storage.Txn { return i.tx }
func (i *fakeInbound) Peer() peer.ID     { return i.p }
func (i *fakeInbound) Stranger() bool    { return i.stranger }
func (i *fakeInbound) Store(m storage.Message) error {
	i.stored = append(i.stored, m)
	return i.tx.PutMessage(m)
}
func (i *fakeInbound) Emit(e event.Event) { i.events = append(i.events, e) }
func (i *fakeInbound) After(f func())     { i.after = append(i.after, f) }

// newTestService makes a Service with a store and an identity and no
// network: enough for what runs inside a transaction.
func newTestService(tb testing.TB) (*Service, *fakeChats) {
	tb.Helper()
	st, err := storage.Open(storage.Config{Dir: tb.TempDir(), NoSync: true})
	if err != nil {
		tb.Fatal(err)
	}
	life := env.NewLifetime()
	chats := &fakeChats{}
	s := New(Config{
		Env: env.Env{Store: st, Identity: identity.New(), Bus: event.NewBus(), Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Life: life, Clock: &env.SendClock{}},
		Chats:        chats,
		MaxTextBytes: 16 << 10,
		SyncRate:     2,
		SyncBurst:    10,
	})
	tb.Cleanup(func() {
		life.Cancel()
		s.Close()
		life.Wait()
		st.Close()
	})
	return s, chats
}

// fuzzGroup is a service in a group with one other member, whose envelopes
// the fuzzers start from. Its group is live without a topic: enough for
// sync and for storing.
type fuzzGroup struct {
	s      *Service
	id     group.ID
	other  identity.Identity
	gk     group.GroupKey
	roster *group.Roster
	lg     *liveGroup
	seeds  [][]byte // encoded envelopes of the other member
	frames [][]byte // the same, framed for the epoch's topic
}

func newFuzzGroup(tb testing.TB) *fuzzGroup {
	tb.Helper()
	s, _ := newTestService(tb)
	fg := &fuzzGroup{s: s, other: identity.New()}
	var secret group.Secret
	var err error
	fg.id, secret = group.NewGroup()
	fg.roster, err = group.Genesis(s.id.Signing(), fg.id, []group.Member{{Key: s.self(), Role: group.RoleOwner}, {Key: fg.other.Public().Key, Role: group.RoleMember}})
	if err != nil {
		tb.Fatal(err)
	}
	fg.gk = group.GroupKey{Group: fg.id, Key: group.NewEpochKey()}
	rb, _ := fg.roster.MarshalBinary()
	kb, _ := fg.gk.MarshalBinary()
	sb, _ := secret.MarshalBinary()
	err = s.store.Update(func(tx *storage.Txn) error {
		now := time.Now()
		if err := tx.PutGroup(storage.Group{ID: sid(fg.id), Secret: sb, Name: "fuzz", State: storage.GroupJoined, Created: now, Updated: now}); err != nil {
			return err
		}
		if err := tx.PutGroupRoster(sid(fg.id), 0, rb); err != nil {
			return err
		}
		return tx.PutGroupEpochKey(sid(fg.id), 0, kb)
	})
	if err != nil {
		tb.Fatal(err)
	}
	// A group with no topics: its context is over, so nothing joins any.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	fg.lg = &liveGroup{id: fg.id, gate: s.newGate(fg.id), ctx: ctx, cancel: cancel}
	if err := s.loadView(fg.lg); err != nil {
		tb.Fatal(err)
	}
	s.live[fg.id] = fg.lg
	tb.Cleanup(func() { // before the service's: the group has no topic to close
		s.mu.Lock()
		delete(s.live, fg.id)
		s.mu.Unlock()
	})
	sc, err := group.NewSendChain(fg.gk, fg.other.Signing())
	if err != nil {
		tb.Fatal(err)
	}
	for _, c := range fuzzContents() {
		pt, _ := proto.Marshal(c)
		e, err := sc.Seal(pt)
		if err != nil {
			tb.Fatal(err)
		}
		b, _ := e.MarshalBinary()
		fg.seeds = append(fg.seeds, b)
		fr, _ := fg.gk.Frame(e)
		fg.frames = append(fg.frames, fr)
	}
	return fg
}

func fuzzContents() []*groupspb.GroupContent {
	target := make([]byte, 32)
	mark := &groupspb.GroupMark{Epoch: 0, Sender: make([]byte, 32), Next: 3}
	return []*groupspb.GroupContent{
		{SentUnixNano: 1, Body: &groupspb.GroupContent_Text{Text: &groupspb.GroupText{Body: "hi", ReplyTo: target}}},
		{Body: &groupspb.GroupContent_Reaction{Reaction: &groupspb.GroupReaction{Target: target, Emoji: "👍"}}},
		{Body: &groupspb.GroupContent_Event{Event: &groupspb.GroupEvent{Title: "picnic", StartUnixNano: 5}}},
		{Body: &groupspb.GroupContent_Rsvp{Rsvp: &groupspb.GroupRsvp{Event: target, Answer: groupspb.GroupRsvp_MAYBE}}},
		{Body: &groupspb.GroupContent_Rename{Rename: &groupspb.GroupRename{Name: "new name"}}},
		{Body: &groupspb.GroupContent_Receipt{Receipt: &groupspb.GroupReceipt{Delivered: []*groupspb.GroupMark{mark}, Read: []*groupspb.GroupMark{mark}}}},
		{Body: &groupspb.GroupContent_Left{Left: &groupspb.GroupLeft{}}},
		{SentUnixNano: 2, Body: &groupspb.GroupContent_Profile{Profile: &groupspb.GroupProfile{Name: "Bob"}}},
	}
}
