package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// mailboxFetchProtocol is the raw stream floor's protocol: the asker sends
// a count and a byte total, the answerer writes that many bytes in that
// many frames.
const mailboxFetchProtocol = "/backchannel-bench/mailbox-fetch/1.0.0"

// mailboxBatch is how many items a raw Badger transaction of the floor
// writes: as many as one fetch of the node's drain hands its 1:1 service,
// which commits them in one receive transaction.
const mailboxBatch = 256

// runMailbox measures a mailbox drain. Three nodes (fsync on): a helper, a
// sender and a recipient, contacts with sessions both ways, both of whom
// appointed the helper. Each run the recipient stops, the sender sends
// mailboxMsgs messages, which its outbox deposits at the helper, and the
// recipient starts again on its home and port; what is timed is from just
// before node.New to the commit of the last of them in the recipient's
// store. Beside it, in the same run after each of ours, the two floors of
// the same bytes: one raw go-libp2p stream carrying them, and a raw Badger
// write of them, 256 to a transaction.
func runMailbox(ctx context.Context, e *env) (res ScenarioResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()

	e.step("starting a helper, a sender and a recipient (fsync on), and two raw libp2p hosts")
	h, a, b, err := mailboxTrio(ctx, c)
	if err != nil {
		return res, err
	}
	rawAsker, rawServer, err := mailboxRawPair(ctx, c)
	if err != nil {
		return res, fmt.Errorf("raw hosts: %w", err)
	}
	bcfg := c.configOf(b)
	bcfg.ListenAddrs = b.Status().ListenAddrs // back on the same port

	var (
		runs          []MailboxRun
		net, disk     []time.Duration
		total         Faults
		timedOut      bool
		last, eventOf []time.Duration // ours: to the last commit; to the first
		begin, fetch  []time.Duration // to the drain's start; to its first answer
		drainToLast   []time.Duration // from the drain's start to the last commit
		polled        int
	)
	for r := range e.mailboxRuns {
		e.step("run %d of %d: recipient away, %d messages deposited at the helper, recipient back", r+1, e.mailboxRuns, e.mailboxMsgs)
		var m mailboxTimes
		b, m, err = mailboxCycle(ctx, e, c, h, a, b, bcfg, e.mailboxMsgs)
		if err != nil {
			return res, fmt.Errorf("run %d: %w", r+1, err)
		}
		total.Sent += m.faults.Sent
		total.Delivered += m.faults.Delivered
		total.Lost += m.faults.Lost
		total.Duplicated += m.faults.Duplicated
		if m.timedOut || !m.faults.Clean() {
			timedOut = m.timedOut
			break
		}
		polled += m.polled

		e.step("run %d of %d: floors: one raw stream of %d bytes in %d frames; a raw Badger write of them", r+1, e.mailboxRuns, m.bytes, m.items)
		sizes := frameSizes(m.items, m.bytes)
		tn, err := rawFetch(ctx, rawAsker, rawServer, sizes)
		if err != nil {
			return res, fmt.Errorf("raw stream: %w", err)
		}
		td, err := rawBadgerWrite(ctx, filepath.Join(e.dir, fmt.Sprintf("raw-badger-%d", r)), sizes)
		if err != nil {
			return res, fmt.Errorf("raw Badger: %w", err)
		}
		net, disk = append(net, tn), append(disk, td)
		last, eventOf = append(last, m.last), append(eventOf, m.first)
		begin, fetch = append(begin, m.drainBegins), append(fetch, m.firstFetch)
		if m.drainBegins > 0 {
			drainToLast = append(drainToLast, m.last-m.drainBegins)
		}
		runs = append(runs, MailboxRun{Messages: m.faults.Sent, HeldItems: m.items, HeldBytes: m.bytes,
			LastCommitMs: ms(m.last), FirstCommitMs: ms(m.first), DrainBeginsMs: ms(m.drainBegins), FirstFetchMs: ms(m.firstFetch),
			RawStreamMs: ms(tn), RawBadgerMs: ms(td)})
	}
	res.Faults = &total
	res.Mailbox = runs

	const sum = "raw stream + raw Badger write of the same bytes (p50s summed)"
	if len(last) == 0 {
		why := "no run completed"
		if timedOut {
			why = fmt.Sprintf("not drained after %v", e.deliveryTimeout)
		}
		res.Figures = []Figure{missing("start → last commit p50", "ms", why, nil)}
	} else {
		rawNet, rawDisk := percentile(net, .5), percentile(disk, .5)
		res.Figures = []Figure{
			figVs("start → last commit p50", "ms", ms(percentile(last, .5)), ms(rawNet+rawDisk), sum, nil),
			fig("start → last commit min", "ms", ms(slices.Min(last)), nil),
			fig("start → last commit max", "ms", ms(slices.Max(last)), nil),
			fig("start → first commit p50", "ms", ms(percentile(eventOf, .5)), nil),
			fig("start → drain begins p50", "ms", ms(percentile(begin, .5)), nil),
			fig("start → first batch fetched p50", "ms", ms(percentile(fetch, .5)), nil),
		}
		if len(drainToLast) > 0 {
			res.Figures = append(res.Figures,
				figVs("drain begins → last commit p50", "ms", ms(percentile(drainToLast, .5)), ms(rawNet+rawDisk), sum, nil))
		}
		res.Figures = append(res.Figures,
			fig("floor: one raw stream p50", "ms", ms(rawNet), nil),
			fig("floor: raw Badger write p50", "ms", ms(rawDisk), nil),
			fig("held at the helper", "KB", float64(runs[0].HeldBytes)/1024, nil),
		)
	}
	res.Figures = append(res.Figures, faultFigures(total)...)
	res.Note = fmt.Sprintf("runs in this invocation: %d, each: the recipient closes, the sender sends %d short texts (the dm scenario's size) "+
		"that its outbox deposits at the helper (in_mailbox at the sender), the recipient starts again on its home and port. "+
		"Timed from just before node.New to the commit of the last of them in the recipient's store (its events; the store is counted after, "+
		"for losses, duplicates and order); drain begins and first batch fetched are the times of the mailbox service's debug log lines. "+
		"Three nodes on loopback TCP, fsync on, no stamps; p50 over the runs, min and max beside. "+
		"After each of ours, the floors of the same bytes (the helper's held bytes, in as many frames as items): "+
		"two raw go-libp2p hosts with the node's transports and security, connected, timed from a new stream's open to its last byte read; "+
		"and a fresh Badger store with storage's options (sync writes) written in transactions of %d items, timed from the first to the last commit",
		len(last), e.mailboxMsgs, mailboxBatch)
	if len(last) > 0 {
		res.Note += fmt.Sprintf("; last commit %s ms, raw stream %s ms, raw Badger %s ms (min–max)",
			minMax(last), minMax(net), minMax(disk))
	}
	if polled > 0 {
		res.Note += fmt.Sprintf("; %d messages had their event missed and were timed by polling the store (every 200 ms)", polled)
	}
	return res, nil
}

// minMax prints the range of ds in milliseconds.
func minMax(ds []time.Duration) string {
	return num(ms(slices.Min(ds))) + "–" + num(ms(slices.Max(ds)))
}

// mailboxTrio starts a helper h and two nodes a and b, each other's
// contacts with sessions both ways, both of whom appointed h; it returns
// once each knows the other's mailbox.
func mailboxTrio(ctx context.Context, c *cluster) (h, a, b *node.Node, err error) {
	if h, err = c.node(ctx, func(cfg *node.Config) { cfg.Helper = true }); err != nil {
		return nil, nil, nil, err
	}
	var boot []string
	for _, ad := range h.Addrs() {
		boot = append(boot, ad.String())
	}
	mod := func(cfg *node.Config) {
		cfg.Bootstrap = boot         // the recipient finds the helper again when it starts
		cfg.MailboxDepositAfter = -1 // deposit at the first failed try: the deposit is not what is timed
	}
	if a, err = c.node(ctx, mod); err != nil {
		return nil, nil, nil, err
	}
	if b, err = c.node(ctx, mod); err != nil {
		return nil, nil, nil, err
	}
	if _, err := a.AddContact(ctx, b.Self().Invite, "b"); err != nil {
		return nil, nil, nil, err
	}
	if _, err := b.AddContact(ctx, a.Self().Invite, "a"); err != nil {
		return nil, nil, nil, err
	}
	evs, cancel := b.Subscribe()
	err = warmUp(ctx, a, b, evs)
	cancel()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := waitFor(ctx, "the warm-up acked", time.Minute, 10*time.Millisecond, outboxesEmpty([]*node.Node{a, b})); err != nil {
		return nil, nil, nil, err
	}
	for _, n := range []*node.Node{a, b} {
		if _, err := n.AppointMailbox(ctx, h.ID(), time.Time{}); err != nil {
			return nil, nil, nil, err
		}
	}
	knows := func(n *node.Node, p peer.ID) func() (bool, error) {
		return func() (bool, error) {
			ks, err := n.MailboxesOf(p)
			return err == nil && len(ks) == 1 && ks[0].Mailbox == h.ID() && ks[0].Capability, err
		}
	}
	if err := waitFor(ctx, "a knows b's mailbox", time.Minute, 10*time.Millisecond, knows(a, b.ID())); err != nil {
		return nil, nil, nil, err
	}
	if err := waitFor(ctx, "b knows a's mailbox", time.Minute, 10*time.Millisecond, knows(b, a.ID())); err != nil {
		return nil, nil, nil, err
	}
	return h, a, b, nil
}

// mailboxTimes is what one cycle measured.
type mailboxTimes struct {
	last, first time.Duration // from the start to the last and the first commit
	drainBegins time.Duration // to the first "mailbox: draining"
	firstFetch  time.Duration // to the first "mailbox: drained" (a fetch answered)
	items       int           // what the helper held for the recipient
	bytes       int64
	polled      int // messages whose event was missed: timed by a poll
	timedOut    bool
	faults      Faults
}

// mailboxCycle runs one cycle: b closes, a sends n messages, which end in
// b's mailbox, b starts again from bcfg and is timed until it has committed
// them all. It returns the recipient now running, and waits before it
// returns until a holds every receipt, b's outbox is empty and h holds
// nothing for b, so that the next cycle starts as this one did.
func mailboxCycle(ctx context.Context, e *env, c *cluster, h, a, b *node.Node, bcfg node.Config, n int) (*node.Node, mailboxTimes, error) {
	var t mailboxTimes
	bID := b.ID()
	if err := c.stop(b); err != nil {
		return nil, t, err
	}
	ids := make([]storage.MessageID, n)
	for i := range n {
		m, err := a.Send(ctx, bID, node.Outgoing{Body: fmt.Sprintf("mailbox %04d", i)})
		if err != nil {
			return nil, t, err
		}
		ids[i] = m.ID
	}
	if err := waitFor(ctx, "every message in the mailbox", e.deliveryTimeout, 20*time.Millisecond, statesAtLeast(a, bID, ids, storage.StateInMailbox)); err != nil {
		return nil, t, err
	}
	hs, err := h.MailboxHeld()
	if err != nil {
		return nil, t, err
	}
	for _, x := range hs {
		if x.Recipient == bID {
			t.items, t.bytes = x.Items, x.Bytes
		}
	}
	if t.items != n {
		return nil, t, fmt.Errorf("the helper holds %d items for the recipient, want %d", t.items, n)
	}

	tr := newCommitTracker(ids)
	marks := &logMarks{}
	cfg := bcfg
	cfg.Gater = &node.LoopbackGater{}
	cfg.Logger = slog.New(&markHandler{marks: marks, next: bcfg.Logger.Handler()})
	var (
		cancel  func()
		readers sync.WaitGroup
	)
	start := time.Now()
	nb, err := c.startHooked(ctx, cfg, func(nd *node.Node) {
		var evs <-chan node.Event
		evs, cancel = nd.Subscribe()
		readers.Go(func() { tr.read(evs) })
	})
	defer readers.Wait()
	if cancel != nil {
		defer cancel()
	}
	if err != nil {
		return nil, t, err
	}
	polls := 0
	werr := waitFor(ctx, "every message committed by the recipient", e.deliveryTimeout, 2*time.Millisecond, func() (bool, error) {
		if polls++; polls%100 == 0 { // an event can be missed: look in the store
			if err := tr.poll(nb, a.ID()); err != nil {
				return false, err
			}
		}
		return tr.complete(), nil
	})
	switch {
	case errors.Is(werr, ErrTimeout):
		t.timedOut = true
	case werr != nil:
		return nb, t, werr
	}
	if t.faults, err = storedOnce(nb, a.ID(), ids); err != nil {
		return nb, t, err
	}
	if t.timedOut || !t.faults.Clean() {
		return nb, t, nil
	}
	if err := inOrder(nb, a.ID(), ids); err != nil {
		return nb, t, err
	}
	t.first, t.last, t.polled = tr.times(start)
	t.drainBegins, t.firstFetch = marks.since(start)

	// Settle, untimed: the receipts back at the sender, nothing left.
	if err := waitFor(ctx, "every receipt back at the sender", e.deliveryTimeout, 20*time.Millisecond, statesAtLeast(a, bID, ids, storage.StateDelivered)); err != nil {
		return nb, t, err
	}
	if err := waitFor(ctx, "the recipient's outbox empty and the helper empty", e.deliveryTimeout, 20*time.Millisecond, func() (bool, error) {
		if nb.Status().OutboxPending > 0 {
			return false, nil
		}
		hs, err := h.MailboxHeld()
		for _, x := range hs {
			if x.Recipient == bID && x.Items > 0 {
				return false, err
			}
		}
		return true, err
	}); err != nil {
		return nb, t, err
	}
	return nb, t, nil
}

// statesAtLeast is a waitFor condition: every message of ids, sent by from
// to p, has reached state (or gone past it).
func statesAtLeast(from *node.Node, p peer.ID, ids []storage.MessageID, state storage.MessageState) func() (bool, error) {
	want := map[storage.MessageID]bool{}
	for _, id := range ids {
		want[id] = true
	}
	return func() (bool, error) {
		ms, err := from.Messages(p, 2*len(ids)+10, time.Time{})
		if err != nil {
			return false, err
		}
		got := 0
		for _, m := range ms {
			if want[m.ID] && m.State.Rank() >= state.Rank() {
				got++
			}
		}
		return got == len(ids), nil
	}
}

// inOrder checks that the recipient's store holds ids, from p, in the
// order they were sent.
func inOrder(n *node.Node, p peer.ID, ids []storage.MessageID) error {
	ms, err := n.Messages(p, 1<<30, time.Time{})
	if err != nil {
		return err
	}
	want := map[storage.MessageID]bool{}
	for _, id := range ids {
		want[id] = true
	}
	var got []storage.MessageID
	for _, m := range slices.Backward(ms) { // newest first: oldest first now
		if want[m.ID] {
			got = append(got, m.ID)
		}
	}
	if slices.Equal(got, ids) {
		return nil
	}
	for i := range min(len(got), len(ids)) {
		if got[i] != ids[i] {
			return fmt.Errorf("the recipient's store holds the messages out of order (first at %d of %d)", i, len(ids))
		}
	}
	return fmt.Errorf("the recipient's store holds %d of the %d messages", len(got), len(ids))
}

// commitTracker notes when each message was committed by the recipient:
// the time of its event, or for an event missed the time of the poll that
// found it in the store.
type commitTracker struct {
	index map[storage.MessageID]int

	mu     sync.Mutex
	at     []time.Time
	polled []bool
	n      int
}

func newCommitTracker(ids []storage.MessageID) *commitTracker {
	t := &commitTracker{index: map[storage.MessageID]int{}, at: make([]time.Time, len(ids)), polled: make([]bool, len(ids))}
	for i, id := range ids {
		t.index[id] = i
	}
	return t
}

// read notes the recipient's message events until its subscription ends.
func (t *commitTracker) read(evs <-chan node.Event) {
	for ev := range evs {
		if ev.Type == node.EventMessage && ev.Message != nil && ev.Message.Direction == storage.Inbound {
			t.mark(ev.Message.ID, ev.Time, false)
		}
	}
}

// mark notes id committed at at; an event's time replaces a poll's.
func (t *commitTracker) mark(id storage.MessageID, at time.Time, polled bool) {
	i, ok := t.index[id]
	if !ok {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	switch {
	case t.at[i].IsZero():
		t.at[i], t.polled[i] = at, polled
		t.n++
	case t.polled[i] && !polled:
		t.at[i], t.polled[i] = at, false
	}
}

func (t *commitTracker) complete() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n == len(t.at)
}

// poll looks in n's store for the messages from p not yet seen.
func (t *commitTracker) poll(n *node.Node, p peer.ID) error {
	ms, err := n.Messages(p, 2*len(t.at)+10, time.Time{})
	if err != nil {
		return err
	}
	now := time.Now()
	for _, m := range ms {
		if m.Direction == storage.Inbound {
			t.mark(m.ID, now, true)
		}
	}
	return nil
}

// times returns, from start, the first and the last commit, and how many
// times are a poll's.
func (t *commitTracker) times(start time.Time) (first, last time.Duration, polled int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	first = t.at[0].Sub(start)
	for i, at := range t.at {
		first, last = min(first, at.Sub(start)), max(last, at.Sub(start))
		if t.polled[i] {
			polled++
		}
	}
	return first, last, polled
}

// logMarks are the times of the first drain log lines of a node.
type logMarks struct {
	mu                sync.Mutex
	draining, drained time.Time
}

// since returns the marks' times from start (0 for a mark not seen).
func (m *logMarks) since(start time.Time) (draining, drained time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.draining.IsZero() {
		draining = m.draining.Sub(start)
	}
	if !m.drained.IsZero() {
		drained = m.drained.Sub(start)
	}
	return draining, drained
}

// markHandler passes a node's log records on to next, and notes the time
// of the mailbox service's first "draining" and "drained" lines. It takes
// debug records (the drain logs at debug), which next may drop: the node
// logs at debug a few times per drain, not per message.
type markHandler struct {
	marks *logMarks
	next  slog.Handler
}

func (h *markHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *markHandler) Handle(ctx context.Context, r slog.Record) error {
	var slot *time.Time
	switch r.Message {
	case "mailbox: draining":
		slot = &h.marks.draining
	case "mailbox: drained":
		slot = &h.marks.drained
	}
	if slot != nil {
		h.marks.mu.Lock()
		if slot.IsZero() {
			*slot = r.Time
		}
		h.marks.mu.Unlock()
	}
	if !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.Handle(ctx, r)
}

func (h *markHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &markHandler{marks: h.marks, next: h.next.WithAttrs(as)}
}

func (h *markHandler) WithGroup(name string) slog.Handler {
	return &markHandler{marks: h.marks, next: h.next.WithGroup(name)}
}

// frameSizes splits total bytes into n frames as even as can be.
func frameSizes(n int, total int64) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = int(total / int64(n))
		if int64(i) < total%int64(n) {
			out[i]++
		}
	}
	return out
}

// mailboxRawPair starts two raw hosts with the node's transports and
// security on loopback TCP (as the bench nodes listen), the second
// answering fetches, and connects them.
func mailboxRawPair(ctx context.Context, c *cluster) (asker, server host.Host, err error) {
	hosts := make([]host.Host, 2)
	for i := range hosts {
		k, _, err := crypto.GenerateEd25519Key(rand.Reader)
		if err != nil {
			return nil, nil, err
		}
		if hosts[i], err = c.nodeLikeHost(k, []string{"/ip4/127.0.0.1/tcp/0"}); err != nil {
			return nil, nil, err
		}
	}
	asker, server = hosts[0], hosts[1]
	server.SetStreamHandler(mailboxFetchProtocol, serveRawFetch)
	if err := asker.Connect(ctx, peer.AddrInfo{ID: server.ID(), Addrs: server.Addrs()}); err != nil {
		return nil, nil, err
	}
	_, err = rawFetch(ctx, asker, server, frameSizes(10, 10*rawMessageSize)) // warm up
	return asker, server, err
}

// serveRawFetch reads a count and a byte total and writes that many bytes
// in that many frames as even as can be, each a write of its own.
func serveRawFetch(s network.Stream) {
	defer s.Close()
	var req [12]byte
	if _, err := io.ReadFull(s, req[:]); err != nil {
		s.Reset()
		return
	}
	n, total := int(binary.BigEndian.Uint32(req[:4])), int64(binary.BigEndian.Uint64(req[4:]))
	if n <= 0 || total <= 0 || total > 1<<30 {
		s.Reset()
		return
	}
	sizes := frameSizes(n, total)
	buf := make([]byte, slices.Max(sizes))
	rand.Read(buf)
	w := bufio.NewWriter(s)
	for _, size := range sizes {
		if _, err := w.Write(buf[:size]); err != nil {
			s.Reset()
			return
		}
	}
	if err := w.Flush(); err != nil {
		s.Reset()
	}
}

// rawFetch opens a new stream to server, asks for frames of sizes and
// times from the open to the last byte read.
func rawFetch(ctx context.Context, asker, server host.Host, sizes []int) (time.Duration, error) {
	var total int64
	for _, n := range sizes {
		total += int64(n)
	}
	var req [12]byte
	binary.BigEndian.PutUint32(req[:4], uint32(len(sizes)))
	binary.BigEndian.PutUint64(req[4:], uint64(total))
	start := time.Now()
	s, err := asker.NewStream(ctx, server.ID(), mailboxFetchProtocol)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	if _, err := s.Write(req[:]); err != nil {
		s.Reset()
		return 0, err
	}
	if _, err := io.CopyN(io.Discard, s, total); err != nil {
		s.Reset()
		return 0, err
	}
	return time.Since(start), nil
}

// rawBadgerWrite opens a fresh Badger store in dir with the options
// storage uses (sync writes on), writes one random value of each size in
// transactions of mailboxBatch, and times the writes from the first
// transaction to the last commit. The store is removed after.
func rawBadgerWrite(ctx context.Context, dir string, sizes []int) (time.Duration, error) {
	defer os.RemoveAll(dir)
	db, err := badger.Open(storage.BadgerOptions(storage.Config{Dir: dir}))
	if err != nil {
		return 0, err
	}
	vals := make([][]byte, len(sizes))
	for i, n := range sizes {
		vals[i] = make([]byte, n)
		rand.Read(vals[i])
	}
	start := time.Now()
	for from := 0; from < len(vals); from += mailboxBatch {
		if err := ctx.Err(); err != nil {
			db.Close()
			return 0, err
		}
		err := db.Update(func(tx *badger.Txn) error {
			for i := from; i < min(from+mailboxBatch, len(vals)); i++ {
				k := binary.BigEndian.AppendUint64([]byte("mailbox/"), uint64(i))
				if err := tx.Set(k, vals[i]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			db.Close()
			return 0, err
		}
	}
	elapsed := time.Since(start)
	return elapsed, db.Close()
}
