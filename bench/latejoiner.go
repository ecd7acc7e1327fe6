package bench

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/node"
)

// historyProtocol is the raw baseline's protocol: the responder writes the
// history, length-prefixed.
const historyProtocol = "/backchannel-bench/history/1.0.0"

// runLateJoiner fills a room (a host and a listener) with lateHistory lines,
// then times a new node from JoinRoom until its room state holds the newest
// lateWant of them (and 99% of them), once with fsync (as the daemon runs)
// and once without, each in a room of its own so that the first joiner's
// presence is not among the second's newest messages. Beside it, a raw
// libp2p host that connects and reads as many messages of the same size over
// one stream.
func runLateJoiner(ctx context.Context, e *env) (res ScenarioResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()
	type joinResult struct{ all, most time.Duration }
	join := func(noSync bool) (r joinResult, err error) {
		e.step("filling a room with %d lines", e.lateHistory)
		f, err := newRoomFixture(ctx, e, c, 2, time.Second)
		if err != nil {
			return r, err
		}
		defer f.close()
		ids := make([]room.MessageID, 0, e.lateHistory)
		for i := range e.lateHistory {
			id, err := f.host.RoomSay(ctx, f.id, historyLine(i))
			if err != nil {
				return r, err
			}
			ids = append(ids, id)
		}
		// Let the room settle (the listener holds every line), so that the
		// join is timed alone.
		if err := waitFor(ctx, "the listener holds the history", e.deliveryTimeout, 50*time.Millisecond, func() (bool, error) {
			n, err := f.delivered(ids, f.listeners)
			return n == len(ids), err
		}); err != nil {
			return r, err
		}
		want := ids[len(ids)-min(e.lateWant, len(ids)):]
		j, err := c.node(ctx, func(cfg *node.Config) {
			cfg.NoSync = noSync
			cfg.PubSubHeartbeat = roomHeartbeat
			cfg.Bootstrap = []string{f.host.Addrs()[0].String()}
		})
		if err != nil {
			return r, err
		}
		e.step("a late joiner (no fsync: %v) joins and pulls the newest %d", noSync, len(want))
		start := time.Now()
		if _, err := j.JoinRoom(ctx, f.id.String(), nil); err != nil {
			return r, err
		}
		err = waitFor(ctx, fmt.Sprintf("the newest %d lines at the late joiner", len(want)), e.deliveryTimeout, 2*time.Millisecond, func() (bool, error) {
			n, err := f.delivered(want, []*node.Node{j})
			if r.most == 0 && n >= len(want)*99/100 {
				r.most = time.Since(start)
			}
			return n == len(want), err
		})
		r.all = time.Since(start)
		return r, err
	}
	synced, err := join(false)
	if err != nil {
		return res, err
	}
	var unsynced joinResult
	if !e.quickMode() { // --quick keeps to the daemon's own configuration
		if unsynced, err = join(true); err != nil {
			return res, err
		}
	}
	want := min(e.lateWant, e.lateHistory)
	e.step("raw: a libp2p host connects and reads %d messages over one stream", want)
	size, err := roomMessageSize(historyLine(e.lateHistory))
	if err != nil {
		return res, err
	}
	raw, err := rawHistory(ctx, c, want, size)
	if err != nil {
		return res, fmt.Errorf("raw: %w", err)
	}
	base := fmt.Sprintf("raw: connect, one stream, %d messages", want)
	res.Figures = []Figure{
		figVs(fmt.Sprintf("newest %d received (fsync)", want), "s", synced.all.Seconds(), raw.Seconds(), base, atMost(2)),
		figVs(fmt.Sprintf("99%% of the newest %d (fsync)", want), "s", synced.most.Seconds(), raw.Seconds(), base, nil),
	}
	if unsynced.all > 0 {
		res.Figures = append(res.Figures,
			figVs(fmt.Sprintf("newest %d received (no fsync)", want), "s", unsynced.all.Seconds(), raw.Seconds(), base, nil),
			figVs(fmt.Sprintf("99%% of the newest %d (no fsync)", want), "s", unsynced.most.Seconds(), raw.Seconds(), base, nil))
	}
	res.Note = fmt.Sprintf("%d lines in a room of a host and a listener; timed from JoinRoom (descriptor fetched from the host) "+
		"until the joiner's room state holds the newest %d lines", e.lateHistory, want)
	return res, nil
}

// historyLine is line i of the late joiner's room.
func historyLine(i int) string {
	return fmt.Sprintf("history line %d of the room, about as long as a chat line is", i)
}

// rawHistory times a raw host connecting to another and reading n messages
// of size bytes over one new stream.
func rawHistory(ctx context.Context, c *cluster, n, size int) (time.Duration, error) {
	server, err := c.rawHost()
	if err != nil {
		return 0, err
	}
	client, err := c.rawHost()
	if err != nil {
		return 0, err
	}
	msg := make([]byte, size)
	server.SetStreamHandler(historyProtocol, func(s network.Stream) {
		defer s.Close()
		w := bufio.NewWriter(s)
		for range n {
			_, _ = w.Write(binary.AppendUvarint(nil, uint64(len(msg))))
			_, _ = w.Write(msg)
		}
		_ = w.Flush()
	})
	start := time.Now()
	if err := client.Connect(ctx, peer.AddrInfo{ID: server.ID(), Addrs: server.Addrs()}); err != nil {
		return 0, err
	}
	s, err := client.NewStream(ctx, server.ID(), historyProtocol)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	r := bufio.NewReader(s)
	buf := make([]byte, size)
	for range n {
		l, err := binary.ReadUvarint(r)
		if err != nil {
			return 0, err
		}
		if int(l) != size {
			return 0, fmt.Errorf("raw history: frame of %d bytes", l)
		}
		if _, err := io.ReadFull(r, buf); err != nil {
			return 0, err
		}
	}
	return time.Since(start), nil
}
