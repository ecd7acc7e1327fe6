package bench

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/backchannel/backchannel/node"
	"github.com/backchannel/backchannel/storage"
)

// junkWorkers is how many goroutines of the raw stranger open junk streams.
const junkWorkers = 4

// runFlood: while an honest contact sends floodHonest messages to a node,
// a stranger's node sends it floodStranger valid requests and a raw libp2p
// host opens stream after stream on its protocols and writes garbage. Every
// honest message must arrive, once; the stranger's requests stay within the
// per-sender cap.
func runFlood(ctx context.Context, e *env) (res ScenarioResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()
	e.step("starting the target, an honest contact, a stranger node and a raw junk host")
	fast := func(cfg *node.Config) { cfg.RetryBase, cfg.RetryMax = 20*time.Millisecond, 500*time.Millisecond }
	target, honest, err := contactPair(ctx, c)
	if err != nil {
		return res, err
	}
	stranger, err := c.node(ctx, fast)
	if err != nil {
		return res, err
	}
	if _, err := stranger.AddContact(ctx, target.Self().Invite, "target"); err != nil {
		return res, err
	}
	junk, err := c.rawHost()
	if err != nil {
		return res, err
	}
	if err := junk.Connect(ctx, peer.AddrInfo{ID: target.ID(), Addrs: addrsOf(target)}); err != nil {
		return res, err
	}

	floodCtx, stopFlood := context.WithCancel(ctx)
	floodStart := time.Now()
	var wg sync.WaitGroup // the flooders; stopped and waited for on every return
	defer func() {
		stopFlood()
		wg.Wait()
	}()
	var junkStreams, junkRefused atomic.Int64
	strangerIDs := make([]storage.MessageID, e.floodStranger)
	var strangerErr error
	wg.Go(func() { strangerErr = sendBurst(floodCtx, stranger, target.ID(), strangerIDs) })
	for w := range junkWorkers {
		wg.Go(func() { junkFlood(floodCtx, junk, target.ID(), w, &junkStreams, &junkRefused) })
	}

	n := e.floodHonest
	e.step("flooding; the honest contact sends %d messages over %v", n, e.floodFor)
	if err := sleep(ctx, e.floodFor/4); err != nil { // the flood under way first
		return res, err
	}
	start := time.Now()
	ids := make([]storage.MessageID, 0, n)
	tick := time.NewTicker(e.floodFor / time.Duration(n))
	for i := range n {
		select {
		case <-tick.C:
		case <-ctx.Done():
			tick.Stop()
			return res, ctx.Err()
		}
		m, err := honest.Send(ctx, target.ID(), node.Outgoing{Body: fmt.Sprint("honest ", i)})
		if err != nil {
			tick.Stop()
			return res, err
		}
		ids = append(ids, m.ID)
	}
	tick.Stop()
	lastSent := time.Now()
	werr := waitFor(ctx, "the honest messages acked", e.deliveryTimeout, 20*time.Millisecond, func() (bool, error) {
		d, err := deliveredCount(honest, target.ID(), n)
		return d >= n, err
	})
	took, tail := time.Since(start), time.Since(lastSent)
	stopFlood()
	wg.Wait()
	flooded := time.Since(floodStart)
	if werr != nil && !errors.Is(werr, ErrTimeout) {
		return res, werr
	}
	if strangerErr != nil && !errors.Is(strangerErr, context.Canceled) {
		return res, fmt.Errorf("stranger: %w", strangerErr)
	}
	f, err := storedOnce(target, honest.ID(), ids)
	if err != nil {
		return res, err
	}
	res.Faults = &f
	strangerStored, err := target.Messages(stranger.ID(), 10*node.DefaultLimits.RequestMessagesPerSender, time.Time{})
	if err != nil {
		return res, err
	}
	res.Figures = append(faultFigures(f),
		fig("honest: first sent to all acked", "s", took.Seconds(), nil),
		fig("honest: last sent to all acked", "s", tail.Seconds(), nil),
		fig("flood: junk streams a second", "streams/s", float64(junkStreams.Load())/flooded.Seconds(), nil),
		fig("stranger's requests stored", "msgs", float64(len(strangerStored)), atMost(float64(node.DefaultLimits.RequestMessagesPerSender))),
		fig("junk streams opened", "streams", float64(junkStreams.Load()), nil),
	)
	res.Note = fmt.Sprintf("the stranger's node queued %d valid requests (answered RETRY_LATER past the caps); %d raw goroutines opened streams "+
		"on the DM, prekey, room sync, room ballot and group sync protocols and wrote 1 KiB of garbage each (%d refused by the target); the honest contact sent its %d messages evenly over %v, starting %v into the flood",
		e.floodStranger, junkWorkers, junkRefused.Load(), n, e.floodFor, e.floodFor/4)
	return res, nil
}

// junkFlood opens streams on the node's protocols and writes garbage until
// ctx ends.
func junkFlood(ctx context.Context, h host.Host, to peer.ID, w int, streams, refused *atomic.Int64) {
	protos := []protocol.ID{node.ProtocolDM, node.ProtocolPreKeys, node.ProtocolSync, node.ProtocolRoomBallot, node.ProtocolGroupSync}
	junk := make([]byte, 1024)
	for i := w; ctx.Err() == nil; i++ {
		_, _ = rand.Read(junk)
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := h.NewStream(sctx, to, protos[i%len(protos)])
		cancel()
		if err != nil {
			refused.Add(1)
			continue
		}
		streams.Add(1)
		_ = s.SetDeadline(time.Now().Add(2 * time.Second))
		_, _ = s.Write(junk)
		_ = s.CloseWrite()
		var b [64]byte
		_, _ = s.Read(b[:]) // the node resets the stream
		_ = s.Reset()
	}
}

// addrsOf returns a node's listen addresses without the /p2p part.
func addrsOf(n *node.Node) []ma.Multiaddr {
	var out []ma.Multiaddr
	for _, a := range n.Addrs() {
		ai, err := peer.AddrInfoFromP2pAddr(a)
		if err == nil {
			out = append(out, ai.Addrs...)
		}
	}
	return out
}
