package node

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/rooms/roomstate"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// RoomTopicPrefix starts every live room's GossipSub topic.
const RoomTopicPrefix = "/backchannel/room/"

// roomTopic is the topic of a room.
func roomTopic(id room.ID) string { return RoomTopicPrefix + id.String() }

// RoomInfo describes a room to the user.
type RoomInfo struct {
	ID          room.ID
	Name        string
	Description string
	Host        peer.ID
	Start       time.Time
	Joined      bool
	Listeners   int
}

// liveRoom is a joined room: its topic, its state and our sequence numbers.
type liveRoom struct {
	desc  room.Descriptor
	topic *pubsub.Topic
	done  chan struct{}      // closed when the room is left
	outq  chan queuedPublish // our stored messages waiting to be published
	// published is closed when publishLoop has stopped, after the room is
	// left and what was queued is sent.
	published chan struct{}
	helpers   []peer.ID // peers known to be in the room when it was joined

	mu    sync.Mutex // guards state
	state *roomstate.State

	// newcomer is set while the node holds no message of the room from
	// anyone else: its first sync asks for the newest history.
	newcomer atomic.Bool

	// synced is closed when the first sync after joining has ended, or
	// found no peer to ask: our first message waits for it (up to
	// roomFirstSyncWait), since peers may hold messages of ours that our
	// store lacks (see publishRoom) and their numbers must not be reused.
	synced     chan struct{}
	syncedOnce sync.Once

	pubMu sync.Mutex // serialises our own messages; guards seq
	seq   uint64     // our last sequence number in the room
}

// roomFirstSyncWait bounds how long our first message in a joined room
// waits for the first sync.
const roomFirstSyncWait = 5 * time.Second

// markSynced records that the first sync after joining has ended.
func (lr *liveRoom) markSynced() { lr.syncedOnce.Do(func() { close(lr.synced) }) }

// waitSynced waits for the first sync after joining, up to
// roomFirstSyncWait. Past that it gives up on it for good, rather than keep
// us silent or make every message wait (the sync may be stuck on a peer
// that does not answer). It fails only when ctx ends.
func (lr *liveRoom) waitSynced(ctx context.Context) error {
	select {
	case <-lr.synced: // nearly always: no timer on the speaker's path
		return nil
	default:
	}
	t := time.NewTimer(roomFirstSyncWait)
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

// rooms holds the joined rooms.
type rooms struct {
	mu      sync.Mutex
	live    map[room.ID]*liveRoom
	helpers map[room.ID][]peer.ID

	// writes carries received messages, already applied, to the store
	// writer (see room_store.go).
	writes *roomWrites
}

func newRooms() *rooms {
	return &rooms{live: map[room.ID]*liveRoom{}, helpers: map[room.ID][]peer.ID{},
		writes: newRoomWrites()}
}

// rememberHelper notes a peer that served a room's descriptor: the first to
// ask for history.
func (n *Node) rememberHelper(id room.ID, p peer.ID) {
	n.rooms.mu.Lock()
	defer n.rooms.mu.Unlock()
	n.rooms.helpers[id] = append(n.rooms.helpers[id], p)
}

func (r *rooms) get(id room.ID) (*liveRoom, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	lr, ok := r.live[id]
	return lr, ok
}

// CreateRoom makes a room hosted by this node and joins it.
func (n *Node) CreateRoom(ctx context.Context, name, description string, start time.Time) (RoomInfo, error) {
	d := room.Descriptor{Nonce: room.NewNonce(), Name: name, Description: description, Start: start, Created: time.Now()}
	if err := d.Sign(n.id.Signing()); err != nil {
		return RoomInfo{}, fmt.Errorf("%w: %w", ErrInvalidRoom, err)
	}
	if err := n.saveRoom(d); err != nil {
		return RoomInfo{}, err
	}
	if err := n.joinLive(ctx, d); err != nil {
		return RoomInfo{}, err
	}
	return n.roomInfo(d.Room)
}

// JoinRoom joins a room by its ID or its name: it asks a peer that is in it (found
// among the connected peers, or through the DHT) for the descriptor and the
// recent history, then subscribes to the room's topic.
func (n *Node) JoinRoom(ctx context.Context, ref string) (RoomInfo, error) {
	id, err := room.ParseID(ref)
	if err != nil { // not an ID: a name
		found, err := n.DiscoverRooms(ctx, ref)
		if err != nil {
			return RoomInfo{}, err
		}
		if len(found) > 1 {
			return RoomInfo{}, fmt.Errorf("%w: %d rooms are named %q: join one by its ID", ErrInvalidRoom, len(found), ref)
		}
		id = found[0].ID
	}
	if _, ok := n.rooms.get(id); ok {
		return n.roomInfo(id)
	}
	d, err := n.fetchDescriptor(ctx, id)
	if err != nil {
		return RoomInfo{}, err
	}
	if err := n.saveRoom(d); err != nil {
		return RoomInfo{}, err
	}
	if err := n.joinLive(ctx, d); err != nil {
		return RoomInfo{}, err
	}
	return n.roomInfo(id)
}

func (n *Node) saveRoom(d room.Descriptor) error {
	enc, err := d.MarshalBinary()
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	return n.store.Update(func(tx *storage.Txn) error {
		return tx.PutRoom(storage.Room{ID: storage.RoomID(d.Room), Descriptor: enc, Name: d.Name, Joined: true, JoinedAt: now, Updated: now})
	})
}

// joinLive subscribes to a room's topic, replays its stored history into the
// room state, and asks the room's peers for what it lacks.
func (n *Node) joinLive(ctx context.Context, d room.Descriptor) error {
	lr := &liveRoom{desc: d, state: roomstate.New(d), done: make(chan struct{}), outq: make(chan queuedPublish, roomPublishQueue),
		published: make(chan struct{}), synced: make(chan struct{})}
	n.rooms.mu.Lock()
	lr.helpers = n.rooms.helpers[d.Room]
	n.rooms.mu.Unlock()
	if err := n.replayRoom(lr); err != nil {
		return err
	}
	topic, err := n.ps.JoinDecoding(roomTopic(d.Room), n.roomValidator(lr))
	if err != nil {
		return fmt.Errorf("room %s: %w", d.Room, err)
	}
	lr.topic = topic
	n.rooms.mu.Lock()
	if _, dup := n.rooms.live[d.Room]; dup {
		n.rooms.mu.Unlock()
		topic.Close()
		return nil
	}
	n.rooms.live[d.Room] = lr
	n.rooms.mu.Unlock()
	n.life.Go(func() {
		n.readRoom(lr)
	})
	n.provideRoom(d.Room, d.Name)
	n.syncRoomSoon(lr)
	n.announceLoop(lr)
	n.publishLoop(lr)
	n.pruneLoop(lr)
	return nil
}

// replayRoom applies the stored history to a fresh room state and finds our
// own next sequence number.
func (n *Node) replayRoom(lr *liveRoom) error {
	self := n.id.Public().Key
	return n.store.View(func(tx *storage.Txn) error {
		ms, err := tx.RoomMessages(storage.RoomID(lr.desc.Room), maxRoomHistory, time.Time{})
		if err != nil {
			return err
		}
		for i := len(ms) - 1; i >= 0; i-- { // oldest first; the state does not mind
			m, err := room.UnmarshalMessage(ms[i].Data)
			if err != nil {
				continue
			}
			_ = lr.state.Apply(m)
		}
		hw, err := tx.RoomHighWater(storage.RoomID(lr.desc.Room))
		if err != nil {
			return err
		}
		lr.seq = hw[self.PeerID()]
		delete(hw, self.PeerID())
		lr.newcomer.Store(len(hw) == 0)
		if lr.seq == 0 || len(hw) == 0 {
			// We never spoke here, or nobody else ever did (not even a
			// listener's presence): no peer can hold a message of ours
			// that we lack, and our first message need not wait for a
			// sync.
			lr.markSynced()
		}
		return nil
	})
}

// LeaveRoom unsubscribes from a room; its history stays in the store.
func (n *Node) LeaveRoom(id room.ID) error {
	if _, ok := n.rooms.get(id); ok {
		n.announcePresence(id, true)
	}
	n.rooms.mu.Lock()
	lr, ok := n.rooms.live[id]
	delete(n.rooms.live, id)
	n.rooms.mu.Unlock()
	if !ok {
		return fmt.Errorf("%w: not in room %s", ErrNotFound, id)
	}
	close(lr.done)
	<-lr.published // the leaving presence goes out before the topic closes
	err := lr.topic.Close()
	return errors.Join(err, n.store.Update(func(tx *storage.Txn) error {
		r, err := tx.Room(storage.RoomID(id))
		if err != nil {
			return err
		}
		r.Joined, r.Updated = false, time.Now().UTC()
		return tx.PutRoom(r)
	}))
}

// Rooms lists the rooms this node knows, joined or not.
func (n *Node) Rooms() ([]RoomInfo, error) {
	rs, err := n.storedRooms()
	if err != nil {
		return nil, err
	}
	var out []RoomInfo
	for _, r := range rs {
		info, err := n.roomInfo(room.ID(r.ID))
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	return out, nil
}

func (n *Node) roomInfo(id room.ID) (RoomInfo, error) {
	var r storage.Room
	if err := n.store.View(func(tx *storage.Txn) error {
		var err error
		r, err = tx.Room(storage.RoomID(id))
		return err
	}); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return RoomInfo{}, fmt.Errorf("%w: room %s", ErrNotFound, id)
		}
		return RoomInfo{}, err
	}
	d, err := room.UnmarshalDescriptor(r.Descriptor)
	if err != nil {
		return RoomInfo{}, err
	}
	info := RoomInfo{ID: id, Name: d.Name, Description: d.Description, Host: d.Host.PeerID(), Start: d.Start}
	if lr, ok := n.rooms.get(id); ok {
		info.Joined = true
		lr.mu.Lock()
		info.Listeners, _ = lr.state.Presence(time.Now())
		lr.mu.Unlock()
	}
	return info, nil
}

// publishRoom signs and publishes one message of ours to a joined room.
//
// The message goes to the publisher before it is stored, and the store
// writes it meanwhile: a speaker's line does not wait for a commit. Its
// number is spent once signed, so it is never reused in this process. A
// process killed between the publish and the commit comes back with a
// store that lacks a message peers hold; the first sync after joining
// brings it back, and our first message waits for that sync (see synced),
// so its number is not reused either. Only a message neither published nor
// stored (the store failing while we are alone in the room) leaves a hole
// in our numbering, at which peers' contiguous marks of us stop.
func (n *Node) publishRoom(ctx context.Context, id room.ID, kind room.Kind, body []byte) (room.MessageID, error) {
	lr, ok := n.rooms.get(id)
	if !ok {
		return room.MessageID{}, fmt.Errorf("%w: not in room %s", ErrNotFound, id)
	}
	if err := lr.waitSynced(ctx); err != nil {
		return room.MessageID{}, err
	}
	lr.pubMu.Lock()
	defer lr.pubMu.Unlock()
	m := room.Message{Room: id, Kind: kind, Seq: lr.seq + 1, Timestamp: time.Now(), Body: body}
	err := m.Sign(n.id.Signing())
	if err == nil {
		lr.mu.Lock()
		err = lr.state.Allowed(m, time.Now())
		lr.mu.Unlock()
	}
	if err != nil {
		return room.MessageID{}, fmt.Errorf("%w: %w", ErrInvalidRoom, err)
	}
	data, err := m.MarshalBinary()
	if err != nil {
		return room.MessageID{}, fmt.Errorf("%w: %w", ErrInvalidRoom, err)
	}
	lr.seq++
	select {
	case lr.outq <- queuedPublish{data, time.Now()}:
	default: // a burst beyond the queue: stored, and sync carries it
		n.log.Debug("room publish queue full; sync will carry it", "room", id)
	}
	mid := m.ID()
	if err := n.storeOwnRoomMessage(lr, m, mid, data); err != nil {
		n.log.Error("room: our message not stored; peers that got it give it back through sync", "room", id, "seq", m.Seq, "err", err)
		return mid, fmt.Errorf("room message %d not stored: %w", m.Seq, err)
	}
	return mid, nil
}

// Room message kinds the user sends.

// RoomSay sends a chat message.
func (n *Node) RoomSay(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	body, err := roomstate.EncodeChat(text, room.MessageID{})
	if err != nil {
		return room.MessageID{}, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return n.publishRoom(ctx, id, room.KindChat, body)
}

// RoomAsk asks the speakers a question.
func (n *Node) RoomAsk(ctx context.Context, id room.ID, text string) (room.MessageID, error) {
	body, err := roomstate.EncodeQuestion(text)
	if err != nil {
		return room.MessageID{}, fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return n.publishRoom(ctx, id, room.KindQuestion, body)
}

// RoomUpvote upvotes a question (once per peer, however often it is sent).
func (n *Node) RoomUpvote(ctx context.Context, id room.ID, question room.MessageID) error {
	return n.publishBody(ctx, id, room.KindUpvote, func() ([]byte, error) { return roomstate.EncodeUpvote(question) })
}

// RoomAnswer marks a question answered (host or moderator).
func (n *Node) RoomAnswer(ctx context.Context, id room.ID, question room.MessageID) error {
	return n.publishBody(ctx, id, room.KindAnswered, func() ([]byte, error) { return roomstate.EncodeAnswered(question) })
}

// RoomPin pins a message, or unpins with the zero ID (host or moderator).
func (n *Node) RoomPin(ctx context.Context, id room.ID, target room.MessageID) error {
	return n.publishBody(ctx, id, room.KindPin, func() ([]byte, error) { return roomstate.EncodePin(target) })
}

// RoomReact reacts to a message with an emoji.
func (n *Node) RoomReact(ctx context.Context, id room.ID, target room.MessageID, emoji string) error {
	return n.publishBody(ctx, id, room.KindReaction, func() ([]byte, error) { return roomstate.EncodeReaction(target, emoji) })
}

// RoomHide hides a message for everyone (host or moderator).
func (n *Node) RoomHide(ctx context.Context, id room.ID, target room.MessageID) error {
	return n.publishBody(ctx, id, room.KindHide, func() ([]byte, error) { return roomstate.EncodeHide(target) })
}

// RoomMute mutes a peer until a time at most a day away (host or moderator).
func (n *Node) RoomMute(ctx context.Context, id room.ID, p peer.ID, until time.Time) error {
	pk, err := peerKeyOf(p)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnknownPeer, err)
	}
	return n.publishBody(ctx, id, room.KindMute, func() ([]byte, error) { return roomstate.EncodeMute(pk, until) })
}

// RoomGrant gives p a role (speaker or moderator) for ttl: only the host can.
func (n *Node) RoomGrant(ctx context.Context, id room.ID, p peer.ID, role room.Role, ttl time.Duration) error {
	pk, err := peerKeyOf(p)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrUnknownPeer, err)
	}
	now := time.Now()
	g := room.RoleGrant{Room: id, Grantee: pk, Role: role, IssuedAt: now, ExpiresAt: now.Add(ttl)}
	if err := g.Sign(n.id.Signing()); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRoom, err)
	}
	return n.publishBody(ctx, id, room.KindRoleGrant, func() ([]byte, error) { return roomstate.EncodeRoleGrant(g) })
}

// RoomWho tells how many listeners a joined room has and who speaks.
func (n *Node) RoomWho(id room.ID) (listeners int, speakers []peer.ID, err error) {
	lr, ok := n.rooms.get(id)
	if !ok {
		return 0, nil, fmt.Errorf("%w: not in room %s", ErrNotFound, id)
	}
	lr.mu.Lock()
	l, sp := lr.state.Presence(time.Now())
	lr.mu.Unlock()
	for _, k := range sp {
		speakers = append(speakers, k.PeerID())
	}
	return l, speakers, nil
}

func (n *Node) publishBody(ctx context.Context, id room.ID, kind room.Kind, body func() ([]byte, error)) error {
	b, err := body()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidRoom, err)
	}
	_, err = n.publishRoom(ctx, id, kind, b)
	return err
}

// RoomChat returns the visible chat of a joined room, oldest first.
func (n *Node) RoomChat(id room.ID, limit int) ([]roomstate.Chat, error) {
	lr, ok := n.rooms.get(id)
	if !ok {
		return nil, fmt.Errorf("%w: not in room %s", ErrNotFound, id)
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.state.Chat(limit), nil
}

// RoomQuestions returns a joined room's questions, most upvoted first.
func (n *Node) RoomQuestions(id room.ID) ([]roomstate.Question, error) {
	lr, ok := n.rooms.get(id)
	if !ok {
		return nil, fmt.Errorf("%w: not in room %s", ErrNotFound, id)
	}
	lr.mu.Lock()
	defer lr.mu.Unlock()
	return lr.state.Questions(), nil
}

// messageID gives GossipSub content-hash message IDs: on room topics the ID
// of the decoded, signed message and on group topics the envelope's Hash, so
// that a relay cannot make a corrupted copy that shadows the real one.
func messageID(topic string, data []byte) string {
	switch {
	case strings.HasPrefix(topic, RoomTopicPrefix):
		id := room.WireMessageID(data)
		return string(id[:])
	case strings.HasPrefix(topic, group.TopicPrefix):
		if e, err := group.UnmarshalEnvelope(data); err == nil {
			h := e.Hash()
			return string(h[:])
		}
	}
	sum := sha256.Sum256(append([]byte(topic+"\x00"), data...))
	return string(sum[:])
}

// Topic kinds whose message IDs messageID decodes the message for, which is
// what makes caching them worth it.
const (
	idKindRoom = iota
	idKindGroup
	idKinds
)

func idKindOf(topic string) (int, bool) {
	switch {
	case strings.HasPrefix(topic, RoomTopicPrefix):
		return idKindRoom, true
	case strings.HasPrefix(topic, group.TopicPrefix):
		return idKindGroup, true
	}
	return 0, false
}

// rejoinRooms joins again, at start, the rooms joined before.
func (n *Node) rejoinRooms(ctx context.Context) error {
	rs, err := n.storedRooms()
	if err != nil {
		return fmt.Errorf("node: rooms: %w", err)
	}
	for _, r := range rs {
		if !r.Joined {
			continue
		}
		d, err := room.UnmarshalDescriptor(r.Descriptor)
		if err != nil {
			n.log.Warn("room: stored descriptor unreadable", "err", err)
			continue
		}
		if err := n.joinLive(ctx, d); err != nil {
			return err
		}
	}
	return nil
}

// storedRooms lists the rooms in the store, joined or not.
func (n *Node) storedRooms() ([]storage.Room, error) {
	var rs []storage.Room
	err := n.store.View(func(tx *storage.Txn) error {
		var err error
		rs, err = tx.Rooms()
		return err
	})
	return rs, err
}
