package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// runKillRecipient sends a burst to a recipient running as a child process
// and kills it with SIGKILL once a fifth of the burst is acked. Every
// message acked before the kill must be in the recipient's store; after a
// restart the outbox drains and the recipient holds each message exactly
// once.
func runKillRecipient(ctx context.Context, e *env) (res ScenarioResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()
	a, err := c.node(ctx, func(cfg *node.Config) {
		cfg.RetryBase, cfg.RetryMax = 20*time.Millisecond, 500*time.Millisecond
	})
	if err != nil {
		return res, err
	}
	port, err := freeLoopbackPort()
	if err != nil {
		return res, err
	}
	home := filepath.Join(e.dir, "recipient")
	childEnv := []string{envHome + "=" + home, envListen + "=" + fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", port), envAccept + "=" + a.Self().Invite}
	e.step("starting the recipient as a child process")
	b, err := startChild(ctx, roleRecipient, childEnv...)
	if err != nil {
		return res, err
	}
	defer func() {
		if b != nil {
			b.kill()
		}
	}()
	inv, err := node.ParseInvite(b.ready)
	if err != nil {
		return res, fmt.Errorf("%w: READY %q: %w", ErrChild, b.ready, err)
	}
	bID := inv.Peer
	if _, err := a.AddContact(ctx, b.ready, "recipient"); err != nil {
		return res, err
	}

	n := e.killBurst
	e.step("sending %d messages; SIGKILL once %d are acked", n, n/5)
	ids := make([]storage.MessageID, n)
	sendErr := make(chan error, 1)
	burstStart := time.Now()
	var burst sync.WaitGroup // the sender; waited for on every return
	defer burst.Wait()
	burst.Go(func() { sendErr <- sendBurst(ctx, a, bID, ids) })
	if err := waitFor(ctx, "a fifth of the burst acked", e.deliveryTimeout, 10*time.Millisecond, func() (bool, error) {
		d, err := deliveredCount(a, bID, n)
		return d >= n/5, err
	}); err != nil {
		return res, err
	}
	b.kill()
	b = nil
	killedAt := time.Now()
	if err := <-sendErr; err != nil {
		return res, err
	}

	// Everything acked before the kill must be in the recipient's store.
	acked, err := deliveredIDs(a, bID, n)
	if err != nil {
		return res, err
	}
	stored, err := storedIDs(filepath.Join(home, "store"), a.ID())
	if err != nil {
		return res, err
	}
	missingAcked := 0
	for id := range acked {
		if stored[id] == 0 {
			missingAcked++
		}
	}
	e.step("killed with %d of %d acked, %d stored; restarting the recipient", len(acked), n, len(stored))

	if b, err = startChild(ctx, roleRecipient, childEnv...); err != nil {
		return res, err
	}
	restarted := time.Now()
	if err := waitFor(ctx, "the outbox drained", e.deliveryTimeout, 50*time.Millisecond, func() (bool, error) {
		d, err := deliveredCount(a, bID, n)
		return d >= n, err
	}); err != nil {
		return res, err
	}
	drained := time.Since(restarted)
	err = b.stop()
	b = nil
	if err != nil {
		return res, err
	}
	stored, err = storedIDs(filepath.Join(home, "store"), a.ID())
	if err != nil {
		return res, err
	}
	f := countFaults(ids, func(yield func(storage.MessageID)) {
		for id, copies := range stored {
			for range copies {
				yield(id)
			}
		}
	})
	res.Faults = &f
	res.Figures = append(faultFigures(f),
		fig("acked before the kill", "msgs", float64(len(acked)), nil),
		fig("acked before the kill, not in its store", "msgs", float64(missingAcked), exactly(0)),
		fig("restart to outbox drained", "s", drained.Seconds(), nil),
	)
	res.Note = fmt.Sprintf("the recipient is a separate process (this executable run again), fsync on; SIGKILL %v into the burst; "+
		"the sender retries every 20 to 500 ms", killedAt.Sub(burstStart).Round(time.Millisecond))
	return res, nil
}

// sendBurst sends len(ids) messages to p from 32 callers, noting each ID.
func sendBurst(ctx context.Context, a *node.Node, p peer.ID, ids []storage.MessageID) error {
	const senders = 32
	errs := make([]error, senders)
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := w; i < len(ids); i += senders {
				m, err := a.Send(ctx, p, node.Outgoing{Body: fmt.Sprint("burst ", i)})
				if err != nil {
					errs[w] = err
					return
				}
				ids[i] = m.ID
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// deliveredIDs returns our messages to p that p has acked.
func deliveredIDs(a *node.Node, p peer.ID, n int) (map[storage.MessageID]bool, error) {
	ms, err := a.Messages(p, n+100, time.Time{})
	if err != nil {
		return nil, err
	}
	out := map[storage.MessageID]bool{}
	for _, m := range ms {
		if m.Direction == storage.Outbound && m.State.Rank() >= storage.StateDelivered.Rank() {
			out[m.ID] = true
		}
	}
	return out, nil
}

func deliveredCount(a *node.Node, p peer.ID, n int) (int, error) {
	ids, err := deliveredIDs(a, p, n)
	return len(ids), err
}

// storedIDs opens a stopped node's store and counts the copies of each
// message of its conversation with p.
func storedIDs(dir string, p peer.ID) (map[storage.MessageID]int, error) {
	st, err := storage.Open(storage.Config{Dir: dir})
	if err != nil {
		return nil, err
	}
	ids := map[storage.MessageID]int{}
	err = st.View(func(tx *storage.Txn) error {
		ms, err := tx.Messages(p, 1<<30, time.Time{})
		for _, m := range ms {
			ids[m.ID]++
		}
		return err
	})
	return ids, errors.Join(err, st.Close())
}

// freeLoopbackPort finds a TCP port free on 127.0.0.1, so that a restarted
// child listens where its peer last saw it.
func freeLoopbackPort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
