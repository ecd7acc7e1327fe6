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
// lateWant of them, once with fsync (as the daemon runs) and once without.
// Beside it, a raw libp2p host that connects and reads as many messages of
// the same size over one stream.
func runLateJoiner(ctx context.Context, e *env) (res ScenarioResult, err error) {
	c := newCluster(e)
	defer func() { err = errors.Join(err, c.close()) }()
	e.step("filling a room with %d lines", e.lateHistory)
	f, err := newRoomFixture(ctx, e, c, 2, time.Second)
	if err != nil {
		return res, err
	}
	defer f.close()
	ids := make([]room.MessageID, 0, e.lateHistory)
	for i := range e.lateHistory {
		id, err := f.host.RoomSay(ctx, f.id, fmt.Sprintf("history line %d of the room, about as long as a chat line is", i))
		if err != nil {
			return res, err
		}
		ids = append(ids, id)
	}
	// Let the room settle (the listener holds every line), so the join is
	// timed alone.
	if err := waitFor(ctx, "the listener holds the history", e.deliveryTimeout, 50*time.Millisecond, func() (bool, error) {
		n, err := f.delivered(ids, f.listeners)
		return n == len(ids), err
	}); err != nil {
		return res, err
	}
	want := ids[len(ids)-min(e.lateWant, len(ids)):]
	boot := f.host.Addrs()[0].String()

	join := func(noSync bool) (time.Duration, error) {
		j, err := c.node(ctx, func(cfg *node.Config) {
			cfg.NoSync = noSync
			cfg.PubSubHeartbeat = roomHeartbeat
			cfg.Bootstrap = []string{boot}
		})
		if err != nil {
			return 0, err
		}
		start := time.Now()
		if _, err := j.JoinRoom(ctx, f.id.String()); err != nil {
			return 0, err
		}
		err = waitFor(ctx, fmt.Sprintf("the newest %d lines at the late joiner", len(want)), e.deliveryTimeout, 2*time.Millisecond, func() (bool, error) {
			n, err := f.delivered(want, []*node.Node{j})
			return n == len(want), err
		})
		return time.Since(start), err
	}
	e.step("a late joiner (fsync on) joins and pulls the newest %d", len(want))
	synced, err := join(false)
	if err != nil {
		return res, err
	}
	e.step("a late joiner without fsync joins")
	unsynced, err := join(true)
	if err != nil {
		return res, err
	}
	e.step("raw: a libp2p host connects and reads %d messages over one stream", len(want))
	raw, err := rawHistory(ctx, c, len(want), 200)
	if err != nil {
		return res, fmt.Errorf("raw: %w", err)
	}
	base := fmt.Sprintf("raw: connect, one stream, %d messages", len(want))
	res.Figures = []Figure{
		figVs(fmt.Sprintf("newest %d received (fsync)", len(want)), "s", synced.Seconds(), raw.Seconds(), base, atMost(2)),
		figVs(fmt.Sprintf("newest %d received (no fsync)", len(want)), "s", unsynced.Seconds(), raw.Seconds(), base, nil),
	}
	res.Note = fmt.Sprintf("%d lines in the room; timed from JoinRoom (descriptor fetched from the host) until the joiner's room state holds the newest %d",
		len(ids), len(want))
	return res, nil
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
