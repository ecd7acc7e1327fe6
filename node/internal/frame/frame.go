// Package frame reads and writes varint-delimited protobuf frames, the
// framing of every Backchannel stream protocol. A frame longer than the
// reader's limit is a protocol violation, refused before it is read.
package frame

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

	"github.com/backchannel/backchannel/node/errs"
)

// ErrTooLarge means a peer announced a frame beyond the reader's limit.
var ErrTooLarge = errors.New("frame too large")

// Read reads one varint-delimited protobuf message of at most limit bytes.
// io.EOF means the stream ended cleanly between frames; an error wrapping
// errs.ErrProtocol means the peer sent something malformed.
func Read(r *bufio.Reader, m proto.Message, limit uint64) error {
	n, err := binary.ReadUvarint(r)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return io.EOF
		}
		if TransportError(err) {
			return fmt.Errorf("frame length: %w", err)
		}
		return fmt.Errorf("%w: frame length: %w", errs.ErrProtocol, err)
	}
	if n > limit {
		return fmt.Errorf("%w: %w: %d bytes, limit %d", errs.ErrProtocol, ErrTooLarge, n, limit)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		if TransportError(err) {
			return fmt.Errorf("frame body: %w", err)
		}
		return fmt.Errorf("%w: frame body: %w", errs.ErrProtocol, err)
	}
	if err := proto.Unmarshal(buf, m); err != nil {
		return fmt.Errorf("%w: frame: %w", errs.ErrProtocol, err)
	}
	return nil
}

// TransportError reports whether err came from the stream itself (reset,
// deadline, closed connection) rather than from what the peer sent.
func TransportError(err error) bool {
	return errors.Is(err, network.ErrReset) || errors.Is(err, os.ErrDeadlineExceeded) ||
		errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// Append appends m, varint-delimited, to b.
func Append(b []byte, m proto.Message) ([]byte, error) {
	enc, err := proto.Marshal(m)
	if err != nil {
		return nil, err
	}
	return AppendRaw(b, enc), nil
}

// AppendRaw appends an already encoded message, varint-delimited, to b.
func AppendRaw(b, enc []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(enc)))
	return append(b, enc...)
}

// Write writes m, varint-delimited.
func Write(w io.Writer, m proto.Message) error {
	b, err := Append(nil, m)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// WriteRaw writes an already encoded message, varint-delimited.
func WriteRaw(w *bufio.Writer, enc []byte) error {
	var buf [binary.MaxVarintLen64]byte
	if _, err := w.Write(buf[:binary.PutUvarint(buf[:], uint64(len(enc)))]); err != nil {
		return err
	}
	_, err := w.Write(enc)
	return err
}
