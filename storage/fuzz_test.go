package storage

import (
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// FuzzDecodeRecord feeds arbitrary bytes to the record and key decoders a
// damaged store could hand them: they must return ErrCorrupt, never panic,
// and a message they accept must encode and decode to the same value.
func FuzzDecodeRecord(f *testing.F) {
	p := peer.ID("fuzz-peer")
	for _, r := range []proto.Message{
		&storepb.Message{Direction: 1, Kind: "text", Body: "hi", ReplyTo: make([]byte, 16), ReceivedUnixNano: 5, State: 4},
		&storepb.Message{ReplyTo: []byte{1, 2, 3}},
		&storepb.Contact{Name: "a", Addrs: []string{"/ip4/127.0.0.1"}},
	} {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	k, _ := peerKey(prefixMessage, p, 0)
	f.Add(k)
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := decodeMessage(p, 42, msgID(1), b)
		if err == nil {
			r := &storepb.Message{
				Direction: uint32(m.Direction), Kind: m.Kind, Body: m.Body,
				ReceivedUnixNano: toUnixNano(m.Received), State: uint32(m.State),
			}
			if !m.ReplyTo.IsZero() {
				r.ReplyTo = m.ReplyTo[:]
			}
			again, err := proto.Marshal(r)
			if err != nil {
				t.Fatalf("accepted message does not encode: %v", err)
			}
			m2, err := decodeMessage(p, 42, msgID(1), again)
			if err != nil || !messageEqual(m, m2) {
				t.Fatalf("round trip: %+v, %v; want %+v", m2, err, m)
			}
		}
		peerFromKey(prefixMessage, b)
		var c storepb.Contact
		if proto.Unmarshal(b, &c) == nil {
			contactFromRecord(p, &c)
		}
	})
}
