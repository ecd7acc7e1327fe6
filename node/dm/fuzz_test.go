package dm

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/internal/frame"
)

// FuzzReadEnvelopes feeds arbitrary bytes to the DM stream's frame reader.
func FuzzReadEnvelopes(f *testing.F) {
	env := mustFrameF(f, &dmpb.Frame{Body: &dmpb.Frame_Envelope{Envelope: &dmpb.Envelope{Id: make([]byte, 16), RatchetMessage: []byte{1, 2}}}})
	f.Add(env)
	f.Add(append(append([]byte(nil), env...), env...))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, data []byte) {
		batch, _ := readEnvelopes(bufio.NewReader(bytes.NewReader(data)))
		if len(batch) > maxBatch {
			t.Fatalf("batch of %d", len(batch))
		}
	})
}

func mustFrameF(f *testing.F, fr *dmpb.Frame) []byte {
	b, err := frame.Append(nil, fr)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
