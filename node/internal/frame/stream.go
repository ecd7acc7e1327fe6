package frame

import (
	"bufio"
	"context"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	"google.golang.org/protobuf/proto"
)

// Exchange runs one request/response of a protocol with p: it opens a
// stream, writes req and reads one frame of at most limit bytes into resp,
// all within timeout. Reads and writes do not watch ctx, so ctx ending
// (leaving a room or group, closing the service) resets the stream rather
// than wait out the deadline.
func Exchange(ctx context.Context, h host.Host, p peer.ID, pid protocol.ID, timeout time.Duration,
	req proto.Message, resp proto.Message, limit uint64) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	st, err := h.NewStream(ctx, p, pid)
	if err != nil {
		return fmt.Errorf("open %s: %w", pid, err)
	}
	defer st.Close()
	stop := context.AfterFunc(ctx, func() { st.Reset() })
	defer stop()
	_ = st.SetDeadline(time.Now().Add(timeout))
	if err := Write(st, req); err != nil {
		st.Reset()
		return fmt.Errorf("%s request: %w", pid, err)
	}
	if err := Read(bufio.NewReader(st), resp, limit); err != nil {
		st.Reset()
		return fmt.Errorf("%s response: %w", pid, err)
	}
	return nil
}

// Serve answers one request on st, a stream a peer opened: it reads one
// frame of at most limit bytes into req, and writes what answer returns for
// it, all within timeout, then closes st. A request it cannot read resets
// the stream, and its error is returned (for the caller's log); a failed
// answer only resets the stream.
func Serve(st network.Stream, timeout time.Duration, req proto.Message, limit uint64, answer func() proto.Message) error {
	defer st.Close()
	_ = st.SetDeadline(time.Now().Add(timeout))
	if err := Read(bufio.NewReader(st), req, limit); err != nil {
		st.Reset()
		return fmt.Errorf("request: %w", err)
	}
	if err := Write(st, answer()); err != nil {
		st.Reset()
	}
	return nil
}
