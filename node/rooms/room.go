package rooms

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/internal/topic"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/pubsub"
)

// liveRoom is a joined room: its topic, its state and our sequence numbers.
type liveRoom struct {
	desc  room.Descriptor
	topic *pubsub.Topic
	// ctx ends when the room is left or the service closes; done is its
	// Done channel.
	ctx    context.Context
	cancel context.CancelFunc
	done   <-chan struct{}
	// wg counts the room's goroutines (reader, publisher, timers, prune
	// loop, DHT announcement, the host's tallies): leaving the room waits
	// for them.
	wg  sync.WaitGroup
	pub *topic.Queue[[]byte] // our stored messages waiting to be published
	// published is closed when publishLoop has stopped, after the room is
	// left and what was queued is sent.
	published chan struct{}
	helpers   []peer.ID // peers known to be in the room when it was joined

	mu    sync.Mutex // guards state, as and dirty
	state *roomstate.State
	as    NameChoice // the name we give ourselves in the room
	// dirty holds, in a room we host, what ballots or votes changed since
	// our last tally told it (at most maxDirty).
	dirty map[tallyKey]struct{}

	// newcomer is set while the node holds no message of the room from
	// anyone else: its first sync asks for the newest history.
	newcomer atomic.Bool

	// synced is closed when the first sync after joining has ended, or
	// found no peer to ask: our first message waits for it (up to
	// firstSyncWait), since peers may hold messages of ours that our
	// store lacks (see publish) and their numbers must not be reused.
	synced     chan struct{}
	syncedOnce sync.Once

	pubMu sync.Mutex // serialises our own messages; guards seq
	seq   uint64     // our last sequence number in the room
}

// firstSyncWait bounds how long our first message in a joined room waits
// for the first sync.
const firstSyncWait = 5 * time.Second

// newLiveRoom makes the live state of d, not yet subscribed; its context
// derives from parent.
func newLiveRoom(parent context.Context, d room.Descriptor) *liveRoom {
	ctx, cancel := context.WithCancel(parent)
	return &liveRoom{desc: d, state: roomstate.New(d), ctx: ctx, cancel: cancel, done: ctx.Done(),
		dirty: map[tallyKey]struct{}{}, published: make(chan struct{}), synced: make(chan struct{})}
}

// nameChoice returns our choice of name in the room.
func (lr *liveRoom) nameChoice() NameChoice {
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.as
}

func (lr *liveRoom) setNameChoice(as NameChoice) {
	lr.mu.Lock()
	lr.as = as
	lr.mu.Unlock()
}

// markSynced records that the first sync after joining has ended.
func (lr *liveRoom) markSynced() { lr.syncedOnce.Do(func() { close(lr.synced) }) }

// waitSynced waits for the first sync after joining, up to firstSyncWait.
// Past that it gives up on it for good, rather than keep us silent or make
// every message wait (the sync may be stuck on a peer that does not
// answer). It fails only when ctx ends.
func (lr *liveRoom) waitSynced(ctx context.Context) error {
	select {
	case <-lr.synced: // nearly always: no timer on the speaker's path
		return nil
	default:
	}
	t := time.NewTimer(firstSyncWait)
	defer t.Stop()
	select {
	case <-lr.synced:
	case <-t.C:
		lr.markSynced()
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// raiseSeq makes sure our next number in the room is past own, the
// high-water mark of our messages in the store.
func (lr *liveRoom) raiseSeq(own uint64) {
	lr.pubMu.Lock()
	lr.seq = max(lr.seq, own)
	lr.pubMu.Unlock()
}

// goRoom runs fn in a goroutine that leaving the room and closing the
// service wait for. The caller holds s.mu, or knows the room's goroutines
// cannot have been waited for yet (see joinLive).
func (s *Service) goRoom(lr *liveRoom, fn func()) { topic.Go(&lr.wg, &s.wg, fn) }
