package node

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"

	"github.com/libp2p/go-libp2p/core/network"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/ratchet"
)

// maxFrameSize bounds one frame on a DM or prekey stream: the largest
// ratchet message plus room for the envelope, stamp and token.
const maxFrameSize = ratchet.MaxMessageSize + 1024

// errFrameTooLarge means a peer announced a frame beyond maxFrameSize.
var errFrameTooLarge = errors.New("frame too large")

// readFrame reads one varint-delimited protobuf message of at most
// maxFrameSize bytes.
func readFrame(r *bufio.Reader, m proto.Message) error { return readFrameLimit(r, m, maxFrameSize) }

// readFrameLimit reads one varint-delimited protobuf message of at most limit
// bytes.
func readFrameLimit(r *bufio.Reader, m proto.Message, limit uint64) error {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		if transportError(err) {
			return fmt.Errorf("frame length: %w", err)
		}
		return fmt.Errorf("%w: frame length: %w", ErrProtocol, err)
	}
	if n > limit {
		return fmt.Errorf("%w: %w: %d bytes, limit %d", ErrProtocol, errFrameTooLarge, n, limit)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if transportError(err) {
			return fmt.Errorf("frame body: %w", err)
		}
		return fmt.Errorf("%w: frame body: %w", ErrProtocol, err)
	}
	if err := proto.Unmarshal(buf, m); err != nil {
		return fmt.Errorf("%w: frame: %w", ErrProtocol, err)
	}
	return nil
}

// transportError reports whether err came from the stream itself (reset,
// deadline, closed connection) rather than from what the peer sent.
func transportError(err error) bool {
	return errors.Is(err, network.ErrReset) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// appendFrame appends m, varint-delimited, to b.
func appendFrame(b []byte, m proto.Message) ([]byte, error) {
	enc, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	b = binary.AppendUvarint(b, uint64(len(enc)))
	return append(b, enc...), nil
}

// writeFrame writes m, varint-delimited.
func writeFrame(w io.Writer, m proto.Message) error {
	b, err := appendFrame(nil, m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

func putUvarint(b []byte, v uint64) int { return binary.PutUvarint(b, v) }
