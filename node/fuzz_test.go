package node

import (
	"bufio"
	"bytes"
	"testing"

	"github.com/backchannel/backchannel/node/internal/dmpb"
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

// FuzzParseInvite checks that an accepted invite survives a round trip.
func FuzzParseInvite(f *testing.F) {
	f.Add("backchannel://invite?addr=%2Fip4%2F127.0.0.1%2Ftcp%2F4001&name=Alice&peer=12D3KooWGRUVh2upZ5eMb1UZUKRrHXvZ8GQYxm4ANpG5kzKc6nQH")
	f.Add("12D3KooWGRUVh2upZ5eMb1UZUKRrHXvZ8GQYxm4ANpG5kzKc6nQH")
	f.Fuzz(func(t *testing.T, s string) {
		inv, err := ParseInvite(s)
		if err != nil {
			return
		}
		back, err := ParseInvite(inv.String())
		if err != nil {
			t.Fatalf("re-encoded invite does not parse: %v", err)
		}
		if back.String() != inv.String() {
			t.Fatalf("invite changed: %q vs %q", back.String(), inv.String())
		}
	})
}

func mustFrameF(f *testing.F, fr *dmpb.Frame) []byte {
	b, err := appendFrame(nil, fr)
	if err != nil {
		f.Fatal(err)
	}
	return b
}
