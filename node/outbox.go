package node

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/crypto/stamp"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/storage"
)

const (
	// ackTimeout is how long a sender waits for any progress on acks.
	ackTimeout = 30 * time.Second
	// encryptBatch bounds how many outbox entries one transaction encrypts.
	encryptBatch = 256
	// sentGrace is how long a message may wait for its ack before it is
	// marked sent.
	sentGrace = 200 * time.Millisecond
)

// outbox delivers queued messages: one deliverer goroutine per peer at a
// time, owned by the node. Which peers are due lives in memory; the entries
// themselves live in the store, so a restart delivers everything again.
type outbox struct {
	n    *Node
	kick chan struct{}

	mu       sync.Mutex
	due      map[peer.ID]time.Time
	active   map[peer.ID]bool
	again    map[peer.ID]bool
	attempts map[peer.ID]int
}

func newOutbox(n *Node) *outbox {
	return &outbox{
		n:        n,
		kick:     make(chan struct{}, 1),
		due:      map[peer.ID]time.Time{},
		active:   map[peer.ID]bool{},
		again:    map[peer.ID]bool{},
		attempts: map[peer.ID]int{},
	}
}

func (o *outbox) wake() {
	select {
	case o.kick <- struct{}{}:
	default:
	}
}

// notify makes p due now: new messages, or p just connected.
func (o *outbox) notify(p peer.ID) {
	o.mu.Lock()
	if o.active[p] {
		o.again[p] = true
	} else {
		o.due[p] = time.Time{}
	}
	o.mu.Unlock()
	o.wake()
}

// peerConnected flushes p's queue at once, if it has one.
func (o *outbox) peerConnected(p peer.ID) {
	o.mu.Lock()
	_, queued := o.due[p]
	if queued && !o.active[p] {
		o.due[p] = time.Time{}
		o.attempts[p] = 0
	}
	o.mu.Unlock()
	if queued {
		o.wake()
	}
}

func (o *outbox) run(ctx context.Context) {
	var peers []peer.ID
	err := o.n.store.View(func(tx *storage.Txn) error {
		var err error
		peers, err = tx.OutboxPeers()
		return err
	})
	if err != nil {
		o.n.log.Error("outbox: cannot read queue", "err", err)
	}
	o.mu.Lock()
	for _, p := range peers {
		o.due[p] = time.Time{}
	}
	o.mu.Unlock()

	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		next := o.startDue(ctx, &wg)
		timer.Reset(time.Until(next))
		select {
		case <-ctx.Done():
			return
		case <-o.kick:
		case <-timer.C:
		}
	}
}

// startDue starts a deliverer for every due peer and returns when the next
// one falls due.
func (o *outbox) startDue(ctx context.Context, wg *sync.WaitGroup) time.Time {
	now := time.Now()
	next := now.Add(time.Hour)
	o.mu.Lock()
	defer o.mu.Unlock()
	for p, t := range o.due {
		if o.active[p] {
			continue
		}
		if t.After(now) {
			if t.Before(next) {
				next = t
			}
			continue
		}
		delete(o.due, p)
		o.active[p] = true
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := o.deliver(ctx, p)
			o.finished(p, err)
		}()
	}
	return next
}

func (o *outbox) finished(p peer.ID, err error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	delete(o.active, p)
	switch {
	case errors.Is(err, errQueueEmpty):
		delete(o.attempts, p)
		if o.again[p] {
			o.due[p] = time.Time{}
		}
	case err == nil || o.again[p]:
		o.due[p] = time.Time{}
	default:
		o.attempts[p]++
		wait := backoff(o.n.cfg.RetryBase, o.n.cfg.RetryMax, o.attempts[p])
		o.due[p] = time.Now().Add(wait)
		if o.n.ctx.Err() == nil {
			o.n.log.Info("outbox: delivery failed, will retry", "to", p, "in", wait.Round(time.Millisecond), "err", err)
		}
	}
	delete(o.again, p)
	o.wake()
}

// backoff is exponential with jitter, between base and max.
func backoff(base, max time.Duration, attempts int) time.Duration {
	d := base
	for i := 1; i < attempts && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	return d/2 + rand.N(d/2+1)
}

// errQueueEmpty ends a deliverer that has nothing left to send.
var errQueueEmpty = errors.New("outbox empty")

// deliver sends p's queue until it is empty or something fails.
func (o *outbox) deliver(ctx context.Context, p peer.ID) error {
	n := o.n
	if err := n.net.Connect(ctx, p); err != nil {
		return err
	}
	if err := n.ensureSession(ctx, p); err != nil {
		return err
	}
	for round := 0; ; round++ {
		entries, err := n.encryptQueued(p)
		if err != nil {
			return err
		}
		if len(entries) == 0 {
			return errQueueEmpty
		}
		if err := n.sendFrames(ctx, p, entries); err != nil {
			return err
		}
		// All acked: later reads need not look before the newest of them.
		// Entries are created with strictly increasing times (sendTime).
		ps := n.peers.get(p)
		ps.mu.Lock()
		if ps.floorReset {
			// Entries were queued outside this peer's lock meanwhile (group
			// keys): one of them may be older than these; read from the start.
			ps.floorReset = false
		} else if last := entries[len(entries)-1].Created; !last.Before(ps.outboxFloor) {
			ps.outboxFloor = last.Add(time.Nanosecond)
		}
		ps.mu.Unlock()
	}
}

// ensureSession starts a session with p from a freshly fetched bundle when
// there is none. The session is persisted with the first encrypted message.
func (n *Node) ensureSession(ctx context.Context, p peer.ID) error {
	ps := n.peers.get(p)
	ps.mu.Lock()
	var err error
	if !ps.loaded {
		err = n.store.View(func(tx *storage.Txn) error { return ps.load(tx, p) })
	}
	has := ps.cur != nil
	ps.mu.Unlock()
	if err != nil || has {
		return err
	}
	b, err := n.fetchBundle(ctx, p)
	if err != nil {
		return err
	}
	s, err := ratchet.Initiate(n.id, b, time.Now())
	if err != nil {
		return err
	}
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.cur == nil {
		ps.cur = s
	}
	return n.store.Update(func(tx *storage.Txn) error {
		if err := tx.PutSetting(difficultyKey(p), []byte{b.StampDifficulty}); err != nil {
			return err
		}
		return ps.save(tx, p)
	})
}

func difficultyKey(p peer.ID) string { return "stamp-difficulty/" + p.String() }

// encryptQueued encrypts the queue's entries that have no frame yet, in
// order, persisting each ciphertext with the session in one transaction so it
// is retransmitted, never re-encrypted. It returns every queued entry.
func (n *Node) encryptQueued(p peer.ID) ([]storage.OutboxEntry, error) {
	ps := n.peers.get(p)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	var entries []storage.OutboxEntry
	for {
		done := true
		err := n.updateSessions(ps, p, func(tx *storage.Txn) error {
			done = true
			var err error
			if entries, err = tx.OutboxFrom(p, ps.outboxFloor); err != nil {
				return err
			}
			if ps.cur == nil || !ps.cur.CanSend() {
				return fmt.Errorf("no session to send to %s", p.ShortString())
			}
			difficulty, token := uint8(0), []byte(nil)
			if ps.cur.AwaitingReply() {
				if t, err := tx.GetSetting(contacts.TokenForKey(p)); err == nil {
					token, _ = hex.DecodeString(string(t)) // the token replaces the stamp
				} else if d, err := tx.GetSetting(difficultyKey(p)); err == nil && len(d) == 1 {
					difficulty = d[0]
				}
			}
			changed := 0
			for i := range entries {
				if entries[i].Frame != nil {
					continue
				}
				if changed == encryptBatch || difficulty > 0 && changed > 0 {
					done = false
					break
				}
				frame, err := n.sealQueued(tx, ps, p, entries[i], difficulty, token)
				if err != nil {
					return err
				}
				entries[i].Frame, entries[i].Content = frame, nil
				if err := tx.PutOutbox(entries[i]); err != nil {
					return err
				}
				changed++
			}
			if changed == 0 {
				return nil
			}
			return ps.save(tx, p)
		})
		if err != nil {
			return nil, err
		}
		if done {
			return entries, nil
		}
	}
}

// sealQueued encrypts a queued entry: its own content (a control content
// queued before a session existed), or else the stored message it names.
func (n *Node) sealQueued(tx *storage.Txn, ps *peerState, p peer.ID, e storage.OutboxEntry, difficulty uint8, token []byte) ([]byte, error) {
	if e.Content != nil {
		var c dmpb.Content
		if err := proto.Unmarshal(e.Content, &c); err != nil {
			return nil, fmt.Errorf("queued content %s: %w", e.ID, err)
		}
		return n.sealContent(ps.cur, &c, difficulty, token)
	}
	m, err := tx.Message(p, e.ID)
	if err != nil {
		return nil, fmt.Errorf("queued message %s: %w", e.ID, err)
	}
	return n.seal(ps.cur, m, difficulty, token)
}

// seal encrypts a stored message into a DM frame.
func (n *Node) seal(s *ratchet.Session, m storage.Message, difficulty uint8, token []byte) ([]byte, error) {
	c, err := contentFromMessage(m)
	if err != nil {
		return nil, err
	}
	return n.sealContent(s, c, difficulty, token)
}

// sealContent encrypts c into a DM frame, with a proof-of-work stamp of the
// given difficulty (0: none) or an invite token (nil: none).
func (n *Node) sealContent(s *ratchet.Session, c *dmpb.Content, difficulty uint8, token []byte) ([]byte, error) {
	pt, err := proto.Marshal(c)
	if err != nil {
		return nil, err
	}
	msg, err := s.Encrypt(pt)
	if err != nil {
		return nil, err
	}
	rm, err := msg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	env := &dmpb.Envelope{Id: c.Id, RatchetMessage: rm, InviteToken: token}
	if difficulty > 0 {
		ctx := stamp.Context{Recipient: s.Remote().Key, Sender: n.id.Public().Key, MessageHash: stamp.HashMessage(rm)}
		st, err := stamp.Make(n.ctx, ctx, stamp.DayOf(time.Now()), difficulty)
		if err != nil {
			return nil, err
		}
		if env.Stamp, err = st.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return proto.Marshal(&dmpb.Frame{Body: &dmpb.Frame_Envelope{Envelope: env}})
}

// sendFrames writes the entries' frames on a new DM stream and applies acks
// as they come, until all are acked or something fails.
func (n *Node) sendFrames(ctx context.Context, p peer.ID, entries []storage.OutboxEntry) error {
	s, err := n.net.Host().NewStream(network.WithAllowLimitedConn(ctx, "dm"), p, ProtocolDM)
	if err != nil {
		return fmt.Errorf("dm stream: %w", err)
	}
	defer s.Close()
	writeErr := make(chan error, 1)
	acksDone := make(chan struct{})
	stopWriter := sync.OnceFunc(func() { close(acksDone) })
	defer stopWriter()
	go func() {
		w := bufio.NewWriterSize(s, 64<<10)
		for _, e := range entries {
			if err := frame.WriteRaw(w, e.Frame); err != nil {
				writeErr <- err
				return
			}
		}
		if err := w.Flush(); err != nil {
			writeErr <- err
			return
		}
		// Messages still unacked after a moment show as sent; on a fast
		// link the acks come first and spare the store a commit.
		select {
		case <-acksDone:
			writeErr <- nil
		case <-time.After(sentGrace):
			writeErr <- n.markSent(p, entries)
		}
	}()
	pending := make(map[storage.MessageID]bool, len(entries))
	for _, e := range entries {
		pending[e.ID] = true
	}
	r := bufio.NewReaderSize(s, 64<<10)
	for len(pending) > 0 {
		_ = s.SetReadDeadline(time.Now().Add(ackTimeout))
		acked, retry, err := readAcks(r, pending)
		if len(acked) > 0 {
			if aerr := n.applyAcks(p, acked); aerr != nil {
				s.Reset()
				stopWriter()
				<-writeErr
				return aerr
			}
		}
		if err != nil || retry != "" {
			s.Reset()
			stopWriter()
			<-writeErr
			if err == nil {
				err = fmt.Errorf("%s asked to retry later: %s", p.ShortString(), retry)
			}
			return err
		}
	}
	stopWriter()
	return <-writeErr
}

// readAcks reads one ack, then every ack already buffered.
func readAcks(r *bufio.Reader, pending map[storage.MessageID]bool) (acked []storage.MessageID, retry string, err error) {
	for {
		var f dmpb.Frame
		if err := readFrame(r, &f); err != nil {
			return acked, "", err
		}
		a := f.GetAck()
		if a == nil {
			return acked, "", fmt.Errorf("%w: expected an ack", ErrProtocol)
		}
		id, err := messageIDFrom(a.Id)
		if err != nil {
			return acked, "", err
		}
		if !pending[id] {
			return acked, "", fmt.Errorf("%w: ack for a message not sent", ErrProtocol)
		}
		if a.Status != dmpb.Ack_OK {
			return acked, a.Reason, nil
		}
		delete(pending, id)
		acked = append(acked, id)
		if r.Buffered() == 0 || len(pending) == 0 {
			return acked, "", nil
		}
	}
}

// markSent moves queued messages to sent once their frames are written.
func (n *Node) markSent(p peer.ID, entries []storage.OutboxEntry) error {
	ids := make([]storage.MessageID, len(entries))
	for i, e := range entries {
		ids[i] = e.ID
	}
	return n.advanceAll(p, ids, storage.StateSent, false)
}

// applyAcks marks acked messages delivered and drops them from the outbox.
func (n *Node) applyAcks(p peer.ID, ids []storage.MessageID) error {
	return n.advanceAll(p, ids, storage.StateDelivered, true)
}

// advanceAll moves our messages to p forward to state s in one transaction,
// dropping their outbox entries when dequeue is set, and publishes the changes.
func (n *Node) advanceAll(p peer.ID, ids []storage.MessageID, s storage.MessageState, dequeue bool) error {
	var events []Event
	err := n.store.Update(func(tx *storage.Txn) error {
		events = events[:0]
		for _, id := range ids {
			if dequeue {
				if err := tx.DeleteOutbox(p, id); err != nil {
					return err
				}
			}
			e, err := advanceState(tx, p, id, s)
			if err != nil {
				return err
			}
			if e != nil {
				events = append(events, *e)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, e := range events {
		n.bus.Publish(e)
	}
	return nil
}

// advanceState moves one of our outbound messages forward to state s, never
// back. Control messages (receipts, profiles) are not stored: nothing to do.
func advanceState(tx *storage.Txn, p peer.ID, id storage.MessageID, s storage.MessageState) (*Event, error) {
	m, err := tx.Message(p, id)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if m.Direction != storage.Outbound || m.State >= s {
		return nil, nil
	}
	if err := tx.SetMessageState(p, id, s); err != nil {
		return nil, err
	}
	m.State = s
	return &Event{Type: EventMessageState, Peer: p, Message: &m}, nil
}
