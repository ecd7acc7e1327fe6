package dm

import (
	"bufio"
	"bytes"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/internal/frame"
)

// TestReadEnvelopesBounded: a batch read from a DM stream, held in memory
// until its transaction commits, stops at maxBatch envelopes or once it
// reaches maxBatchBytes, whichever comes first, however much the peer has
// sent ahead.
func TestReadEnvelopesBounded(t *testing.T) {
	tests := []struct {
		name      string
		size      int // of each envelope's ratchet message
		count     int // envelopes sent ahead
		wantCount int // envelopes in the first batch
	}{
		{"small envelopes: the count binds", 100, maxBatch + 50, maxBatch},
		{"large envelopes: the bytes bind", 20 << 10, 200, -1},
		{"largest envelopes: the bytes bind", maxFrameSize - 1024, 40, -1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stream []byte
			for i := range tc.count {
				msg := make([]byte, tc.size)
				msg[0] = byte(i)
				var err error
				stream, err = frame.Append(stream, &dmpb.Frame{Body: &dmpb.Frame_Envelope{Envelope: &dmpb.Envelope{Id: make([]byte, 16), RatchetMessage: msg}}})
				if err != nil {
					t.Fatal(err)
				}
			}
			// The handler's reader, with everything sent already there.
			r := bufio.NewReaderSize(bytes.NewReader(stream), len(stream))
			batch, err := readEnvelopes(r)
			if err != nil {
				t.Fatal(err)
			}
			size := 0
			for _, env := range batch {
				size += proto.Size(env)
			}
			last := proto.Size(batch[len(batch)-1])
			if size-last >= maxBatchBytes {
				t.Errorf("batch of %d envelopes, %d bytes: went on past %d bytes", len(batch), size, maxBatchBytes)
			}
			if tc.wantCount >= 0 && len(batch) != tc.wantCount {
				t.Errorf("batch of %d envelopes, want %d", len(batch), tc.wantCount)
			}
			if tc.wantCount < 0 && size < maxBatchBytes {
				t.Errorf("batch of %d bytes stopped short of %d with more buffered", size, maxBatchBytes)
			}
		})
	}
}
