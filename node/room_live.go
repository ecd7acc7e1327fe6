package node

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ipfs/go-cid"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	mh "github.com/multiformats/go-multihash"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/node/roomstate"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

const (
	// ProtocolSync serves room descriptors and history.
	ProtocolSync = "/backchannel/sync/1.0.0"
	// maxRoomHistory bounds what a node replays, serves and asks for.
	maxRoomHistory = 1000
	// roomPublishWait bounds how long a publish waits for the room's mesh.
	roomPublishWait = 5 * time.Second
	// roomClockSkew is how far in the future a room message may be dated.
	roomClockSkew = 5 * time.Minute
	// roomRate and roomBurst bound each sender's messages in a room (the
	// host's are not bounded: it is the host's room).
	roomRate  = rate.Limit(20)
	roomBurst = 50
	// maxSyncFrame bounds a sync response.
	maxSyncFrame = 8 << 20
	// syncTimeout bounds one sync exchange.
	syncTimeout = 20 * time.Second
)

func roomCID(id room.ID) cid.Cid {
	h, err := mh.Sum(id[:], mh.SHA2_256, -1)
	if err != nil {
		panic(err) // SHA-256 is always available
	}
	return cid.NewCidV1(cid.Raw, h)
}

// roomValidator checks a room message before GossipSub delivers or forwards
// it: form, signature and room binding, date, the sender's rate, and what the
// room's state allows (muted senders, moderator-only kinds). It hands the
// decoded message of each one it accepts to readRoom.
func (n *Node) roomValidator(lr *liveRoom) pubsub.DecodingValidator {
	limiter := pubsub.NewLimiter(roomRate, roomBurst, maxLimiters)
	self := n.ID()
	return func(_ context.Context, from peer.ID, data []byte) (pubsub.Result, any) {
		m, err := room.UnmarshalMessage(data)
		if err != nil {
			n.log.Debug("room: malformed message", "from", from, "err", err)
			return pubsub.Reject, nil
		}
		// Our own publishes were signed by publishRoom a moment ago:
		// verifying them again would only delay the speaker's line.
		if from != self {
			if err := m.Verify(lr.desc.Room); err != nil {
				n.log.Debug("room: message rejected", "from", from, "err", err)
				return pubsub.Reject, nil
			}
		}
		now := time.Now()
		if m.Timestamp.After(now.Add(roomClockSkew)) {
			return pubsub.Reject, nil
		}
		// Over its rate, a message is dropped, not forwarded, but not
		// punished: an honest burst is later repaired by sync, and a flood
		// costs the flooder's neighbours one cheap check a message.
		if from != self && m.Sender != lr.desc.Host && !limiter.Allow(string(m.Sender[:])) {
			n.log.Debug("room: sender over its rate", "sender", m.Sender)
			return pubsub.Ignore, nil
		}
		lr.mu.Lock()
		err = lr.state.Allowed(m, now)
		lr.mu.Unlock()
		if err != nil {
			// Verdicts that depend on this node's state (mutes, roles) are
			// Ignore, not Reject, unless the peer handing us the message is
			// its author: scoring punishes the forwarder, who may know less
			// than we do.
			n.log.Debug("room: message not allowed", "sender", m.Sender, "err", err)
			if from == m.Sender.PeerID() {
				return pubsub.Reject, nil
			}
			return pubsub.Ignore, nil
		}
		return pubsub.Accept, m
	}
}

// readRoom applies the room's messages until the topic closes, taking what
// is waiting in one batch.
func (n *Node) readRoom(lr *liveRoom) {
	msgs := lr.topic.Messages()
	var batch []roomArrival
	add := func(msg pubsub.Message) {
		if msg.Local {
			return // stored when published
		}
		m, ok := msg.Decoded.(room.Message) // from roomValidator
		if !ok {
			var err error
			if m, err = room.UnmarshalMessage(msg.Data); err != nil {
				return // the validator let nothing malformed through
			}
		}
		batch = append(batch, newRoomArrival(m, msg.Data, msg.ID))
	}
	for msg := range msgs {
		add(msg)
	drain:
		for len(batch) < roomReadBatch {
			select {
			case msg, ok := <-msgs:
				if !ok {
					break drain
				}
				add(msg)
			default:
				break drain
			}
		}
		n.acceptRoomMessages(lr, batch)
		batch = batch[:0]
	}
}

// provideRoom announces in the DHT that this node is in the room, under the
// room's ID and its name.
func (n *Node) provideRoom(id room.ID, name string) {
	keys := []cid.Cid{roomCID(id), roomNameCID(name)}
	n.life.Go(func() {
		pctx, cancel := context.WithTimeout(n.ctx, time.Minute)
		defer cancel()
		for _, key := range keys {
			if err := n.net.DHT().Provide(pctx, key, true); err != nil {
				n.log.Debug("room: not announced in the DHT", "room", id, "err", err)
			}
		}
	})
}

// roomPublishQueue bounds our messages waiting for the room's mesh.
const roomPublishQueue = 1024

// roomLeaveFlush bounds how long leaving a room waits to send what is
// queued.
const roomLeaveFlush = 2 * time.Second

// queuedPublish is one of our stored messages waiting to be published.
type queuedPublish struct {
	data   []byte
	queued time.Time
}

// publishLoop publishes our stored messages in order, each waiting up to
// roomPublishWait for the mesh, so that a sender never blocks on a room it
// is alone in: what cannot be sent now reaches the others through sync.
// A message that waited in the queue longer than roomPublishWait is not
// published late either: sync carries it, and a backlog built up while we
// were alone would otherwise hold every newer message behind it.
//
// When the room is left it sends what is still queued (the leaving presence
// among it) for up to roomLeaveFlush, then closes lr.published.
func (n *Node) publishLoop(lr *liveRoom) {
	n.life.Go(func() {
		defer close(lr.published)
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-lr.done:
				ctx, cancel := context.WithTimeout(n.ctx, roomLeaveFlush)
				defer cancel()
				for {
					select {
					case q := <-lr.outq:
						if err := lr.topic.Publish(ctx, q.data); err != nil {
							return // sync carries it, if we come back
						}
					default:
						return
					}
				}
			case q := <-lr.outq:
				if time.Since(q.queued) > roomPublishWait {
					continue
				}
				ctx, cancel := context.WithTimeout(n.ctx, roomPublishWait)
				err := lr.topic.Publish(ctx, q.data)
				cancel()
				if err != nil {
					n.log.Debug("room publish not sent; sync will carry it", "room", lr.desc.Room, "err", err)
				}
			}
		}
	})
}

// announceLoop announces our presence in a joined room until we leave it.
func (n *Node) announceLoop(lr *liveRoom) {
	n.everyWhileJoined(lr, presenceTTL/2, func() time.Duration {
		n.announcePresence(lr.desc.Room, false)
		return 0
	})
}

// everyWhileJoined runs fn at once and then every interval, or after what
// fn returns when that is positive and sooner, in a goroutine owned by the
// node, until the node closes or the room is left.
func (n *Node) everyWhileJoined(lr *liveRoom, interval time.Duration, fn func() (sooner time.Duration)) {
	n.life.Go(func() {
		t := time.NewTimer(0)
		defer t.Stop()
		for {
			select {
			case <-n.ctx.Done():
				return
			case <-lr.done:
				return
			case <-t.C:
			}
			next := interval
			if sooner := fn(); sooner > 0 {
				next = min(next, sooner)
			}
			t.Reset(next)
		}
	})
}

// roomFirstSyncRetry is how soon a joined room asks again while its first
// sync has not happened (no peer known yet, or none answered).
const roomFirstSyncRetry = 100 * time.Millisecond

// syncRoomSoon pulls the history the node lacks from the room's peers at
// once (a late joiner, or a node back from a restart) and then every
// RoomSyncInterval (gap repair). Until a first sync has succeeded, for at
// most roomFirstSyncWait, it asks again every roomFirstSyncRetry: our first
// message is waiting for it.
func (n *Node) syncRoomSoon(lr *liveRoom) {
	joined := time.Now()
	n.everyWhileJoined(lr, n.cfg.RoomSyncInterval, func() time.Duration {
		if n.syncRoomRound(lr) || time.Since(joined) >= roomFirstSyncWait {
			lr.markSynced() // synced, or given up on: nothing waits for it any more
			return 0
		}
		select {
		case <-lr.synced:
			return 0
		default:
			return roomFirstSyncRetry
		}
	})
}

// syncRoomRound syncs with one of the room's peers, again while the answers
// come back full, and reports whether it synced.
func (n *Node) syncRoomRound(lr *liveRoom) bool {
	peers := lr.topic.Peers()
	if len(peers) == 0 {
		peers = lr.helpers // whoever gave us the descriptor
	}
	if len(peers) == 0 {
		return false
	}
	p := peers[rand.IntN(len(peers))]
	// A full answer means more is waiting: ask again at once, a few
	// times, rather than a sync interval later.
	for range roomSyncRounds {
		full, err := n.syncRoom(lr, p)
		if err != nil {
			n.log.Debug("room: sync failed", "room", lr.desc.Room, "with", p, "err", err)
			return false
		}
		if !full {
			break
		}
	}
	return true
}

// roomSyncRounds bounds the syncs in a row when answers come back full.
const roomSyncRounds = 5

// presenceTTL is how long one presence message keeps a member counted.
const presenceTTL = 2 * time.Minute

// announcePresence tells the room we are in it (or leaving it).
func (n *Node) announcePresence(id room.ID, leaving bool) {
	body, err := roomstate.EncodePresence(presenceTTL, leaving)
	if err != nil {
		n.log.Error("room: presence", "err", err)
		return
	}
	if _, err := n.publishRoom(n.ctx, id, room.KindPresence, body); err != nil {
		n.log.Debug("room: presence not sent", "room", id, "err", err)
	}
}

// syncRoom asks p for the messages we lack, applies and stores them. A
// newcomer (lr.newcomer) asks for the newest history instead and gives up
// the older rest. It reports whether the answer was full, so that more may
// be waiting.
func (n *Node) syncRoom(lr *liveRoom, p peer.ID) (full bool, err error) {
	var have map[peer.ID]uint64
	if err := n.store.View(func(tx *storage.Txn) error {
		var err error
		have, err = tx.RoomHighWater(storage.RoomID(lr.desc.Room))
		return err
	}); err != nil {
		return false, err
	}
	newest := lr.newcomer.Load()
	req := &dmpb.SyncRequest{Room: lr.desc.Room[:], Limit: maxRoomHistory, Newest: newest}
	for sender, seq := range have {
		pk, err := senderKey(sender)
		if err != nil {
			continue
		}
		req.Have = append(req.Have, &dmpb.HighWater{Sender: pk, Seq: seq})
	}
	resp, err := n.syncExchange(p, req)
	if err != nil {
		return false, err
	}
	n.log.Debug("room: synced", "room", lr.desc.Room, "with", p, "have", len(req.Have), "newest", newest, "got", len(resp.Messages))
	batch := make([]roomArrival, 0, len(resp.Messages))
	for _, data := range resp.Messages {
		m, err := room.UnmarshalMessage(data)
		if err != nil {
			return false, fmt.Errorf("%w: sync: %w", ErrProtocol, err)
		}
		if err := m.Verify(lr.desc.Room); err != nil {
			return false, fmt.Errorf("%w: sync: %w", ErrProtocol, err)
		}
		batch = append(batch, newRoomArrival(m, data, ""))
	}
	floors := map[peer.ID]uint64{}
	if newest {
		for _, f := range resp.Floors {
			p, err := peerFromKey(f.Sender)
			if err != nil {
				return false, err
			}
			floors[p] = f.Seq
		}
	}
	// Stored now, not through the writer: the next sync's marks must count
	// them.
	recs := n.applyRoomMessages(lr, batch)
	// The answer may give back messages of ours that our store lacked (see
	// publishRoom): then our next number must pass them.
	self := n.ID()
	_, ours := floors[self]
	for _, r := range recs {
		ours = ours || r.Sender == self
	}
	var own uint64
	if err := n.store.Update(func(tx *storage.Txn) error {
		if err := n.putRoomMessages(tx, recs); err != nil {
			return err
		}
		for sender, seq := range floors {
			if err := tx.SkipRoomHistory(storage.RoomID(lr.desc.Room), sender, seq); err != nil {
				return err
			}
		}
		if !ours {
			return nil
		}
		hw, err := tx.RoomHighWater(storage.RoomID(lr.desc.Room))
		own = hw[self]
		return err
	}); err != nil {
		return false, err
	}
	lr.raiseSeq(own)
	if len(recs) > 0 || len(floors) > 0 {
		lr.newcomer.Store(false) // from now on, gaps are repaired oldest first
	}
	return len(resp.Messages) >= maxRoomHistory, nil
}

func senderKey(p peer.ID) ([]byte, error) {
	pk, err := peerKeyOf(p)
	if err != nil {
		return nil, err
	}
	return pk[:], nil
}

// syncExchange runs one request/response on the sync protocol.
func (n *Node) syncExchange(p peer.ID, req *dmpb.SyncRequest) (*dmpb.SyncResponse, error) {
	ctx, cancel := context.WithTimeout(n.ctx, syncTimeout)
	defer cancel()
	s, err := n.net.Host().NewStream(ctx, p, ProtocolSync)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(syncTimeout))
	if err := writeFrame(s, req); err != nil {
		s.Reset()
		return nil, err
	}
	var resp dmpb.SyncResponse
	if err := readFrameLimit(bufio.NewReader(s), &resp, maxSyncFrame); err != nil {
		s.Reset()
		return nil, err
	}
	if resp.Error != "" {
		return nil, fmt.Errorf("sync: %s says: %s", p.ShortString(), resp.Error)
	}
	return &resp, nil
}

// fetchDescriptor finds a peer in the room (connected peers first, then DHT
// providers) and asks it for the room's descriptor.
func (n *Node) fetchDescriptor(ctx context.Context, id room.ID) (room.Descriptor, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	tried := map[peer.ID]bool{n.ID(): true}
	try := func(p peer.ID) (room.Descriptor, bool) {
		if tried[p] {
			return room.Descriptor{}, false
		}
		tried[p] = true
		resp, err := n.syncExchange(p, &dmpb.SyncRequest{Room: id[:], WantDescriptor: true})
		if err != nil || len(resp.SignedDescriptor) == 0 {
			return room.Descriptor{}, false
		}
		d, err := room.UnmarshalDescriptor(resp.SignedDescriptor)
		if err != nil || d.Verify() != nil || d.Room != id {
			n.log.Warn("room: bad descriptor", "from", p, "room", id)
			return room.Descriptor{}, false
		}
		n.rememberHelper(id, p)
		return d, true
	}
	// The DHT may still be filling (a node that just started) and the host's
	// announcement may still be spreading: look again until the deadline.
	wait := 100 * time.Millisecond
	for {
		for _, p := range n.net.Host().Network().Peers() {
			if d, ok := try(p); ok {
				return d, nil
			}
		}
		for ai := range n.net.DHT().FindProvidersAsync(ctx, roomCID(id), 20) {
			if ai.ID == n.ID() || tried[ai.ID] {
				continue
			}
			if len(ai.Addrs) > 0 {
				n.net.Host().Peerstore().AddAddrs(ai.ID, ai.Addrs, time.Hour)
			}
			if err := n.net.Host().Connect(ctx, ai); err != nil {
				continue
			}
			if d, ok := try(ai.ID); ok {
				return d, nil
			}
		}
		select {
		case <-ctx.Done():
			return room.Descriptor{}, fmt.Errorf("%w: no peer found in room %s", ErrNotFound, id)
		case <-time.After(wait):
		}
		// Peers already asked may have joined since: ask them again.
		clear(tried)
		tried[n.ID()] = true
		wait = min(2*wait, 2*time.Second)
	}
}

// handleSync serves /backchannel/sync/1.0.0: a room's descriptor and
// history to a peer.
func (n *Node) handleSync(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	_ = s.SetDeadline(time.Now().Add(syncTimeout))
	var req dmpb.SyncRequest
	if err := readFrame(bufio.NewReader(s), &req); err != nil {
		n.log.Warn("sync: malformed request", "from", p, "err", err)
		s.Reset()
		return
	}
	resp := &dmpb.SyncResponse{}
	if !n.gate.allowSync(p) {
		resp.Error = "rate limited"
	} else if err := n.serveSync(&req, resp); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			resp.Error = "unknown room"
		} else {
			n.log.Warn("sync: request failed", "from", p, "err", err)
			resp.Error = "bad request"
		}
	}
	if err := writeFrame(s, resp); err != nil {
		s.Reset()
	}
}

func (n *Node) serveSync(req *dmpb.SyncRequest, resp *dmpb.SyncResponse) error {
	if req.Name != "" {
		return n.store.View(func(tx *storage.Txn) error {
			var err error
			resp.Rooms, err = roomsNamed(tx, req.Name)
			return err
		})
	}
	id, err := room.IDFromBytes(req.Room)
	if err != nil {
		return err
	}
	limit := int(min(req.Limit, maxRoomHistory))
	return n.store.View(func(tx *storage.Txn) error {
		r, err := tx.Room(storage.RoomID(id))
		if err != nil {
			return err
		}
		if req.WantDescriptor {
			resp.SignedDescriptor = r.Descriptor
		}
		if limit == 0 {
			return nil
		}
		cutoff := time.Now().Add(-n.cfg.RoomHistoryAge)
		if len(req.Have) == 0 || req.Newest { // a late joiner: the newest, oldest first
			ms, err := lateJoinerHistory(tx, storage.RoomID(id), limit, cutoff, time.Now())
			if err != nil {
				return err
			}
			// Oldest first; signed times have millisecond precision, so
			// within one a sender's messages go in their order.
			slices.SortStableFunc(ms, func(a, b storage.RoomMessage) int {
				return cmp.Or(a.Sent.Compare(b.Sent), cmp.Compare(a.Sender, b.Sender), cmp.Compare(a.Seq, b.Seq))
			})
			for _, m := range ms {
				resp.Messages = append(resp.Messages, m.Data)
			}
			ours, err := tx.RoomHighWater(storage.RoomID(id))
			if err != nil {
				return err
			}
			resp.Floors = historyFloors(ours, ms)
			return nil
		}
		theirs := map[peer.ID]uint64{}
		for _, hw := range req.Have {
			p, err := peerFromKey(hw.Sender)
			if err != nil {
				return err
			}
			theirs[p] = hw.Seq
		}
		ours, err := tx.RoomHighWater(storage.RoomID(id))
		if err != nil {
			return err
		}
		for sender, seq := range ours {
			if seq <= theirs[sender] || len(resp.Messages) >= limit {
				continue
			}
			ms, err := tx.RoomSenderMessages(storage.RoomID(id), sender, theirs[sender], limit-len(resp.Messages))
			if err != nil {
				return err
			}
			for _, m := range ms { // gap repair: what we keep (see pruneRoom)
				resp.Messages = append(resp.Messages, m.Data)
			}
		}
		return nil
	})
}

func peerKeyOf(p peer.ID) (keys.PublicKey, error) { return keys.PublicKeyFromPeerID(p) }

func peerFromKey(b []byte) (peer.ID, error) {
	pk, err := keys.PublicKeyFromBytes(b)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrProtocol, err)
	}
	return pk.PeerID(), nil
}
