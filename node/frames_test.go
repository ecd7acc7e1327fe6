package node

import (
	"bufio"
	"io"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/node/internal/frame"
)

// maxFrameSize is the DM and prekey streams' frame bound (see package dm):
// the tests that speak those protocols by hand read with it. It is the largest
// ratchet message plus room for the envelope, stamp and token.
const maxFrameSize = ratchet.MaxMessageSize + 1024

// readFrame reads one frame of at most maxFrameSize bytes.
func readFrame(r *bufio.Reader, m proto.Message) error { return frame.Read(r, m, maxFrameSize) }

func appendFrame(b []byte, m proto.Message) ([]byte, error) { return frame.Append(b, m) }

func writeFrame(w io.Writer, m proto.Message) error { return frame.Write(w, m) }
