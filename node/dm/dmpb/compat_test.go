package dmpb_test

import (
	"bytes"
	"encoding/hex"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/node/dm/dmpb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// Encodings made by the all-in-one wire package dm's types replaced
// (node/internal/dmpb, whose Content held the group controls as message
// fields), for contents with ID 07…07 and sent time 5. The group control's
// own encoding is given where there is one.
var oldContents = []struct {
	name    string
	content string // hex
	control string // hex of the group message inside, for group controls
}{
	{"group invite", "0a100707070707070707070707070707070710054a4b0a200101010101010101010101010101010101010101010101010101010101010101122002020202020202020202020202020202020202020202020202020202020202021a016722020304",
		"0a200101010101010101010101010101010101010101010101010101010101010101122002020202020202020202020202020202020202020202020202020202020202021a016722020304"},
	{"group key", "0a1007070707070707070707070707070707100552060a0105120106", "0a0105120106"},
	{"group decline", "0a100707070707070707070707070707070710055a030a0108", "0a0108"},
	{"group leave", "0a100707070707070707070707070707070710056200", ""},
	{"group removed", "0a100707070707070707070707070707070710056a060a010912010a", "0a010912010a"},
	{"text", "0a100707070707070707070707070707070710051a1e0a0268691210070707070707070707070707070707071a06726f6f6d3a78", ""},
	{"read receipt", "0a10070707070707070707070707070707072a120a1007070707070707070707070707070707", ""},
}

// TestGroupControlsCompatible: a content encoded with the old type decodes
// with dm's Content (the group controls are bytes fields of the same
// numbers) to exactly the group message's encoding, and re-encodes to the
// same bytes, so the wire and the outbox entries older nodes stored are
// unchanged.
func TestGroupControlsCompatible(t *testing.T) {
	for _, tc := range oldContents {
		t.Run(tc.name, func(t *testing.T) {
			enc, _ := hex.DecodeString(tc.content)
			want, _ := hex.DecodeString(tc.control)
			var c dmpb.Content
			if err := proto.Unmarshal(enc, &c); err != nil {
				t.Fatalf("does not decode the old encoding: %v", err)
			}
			if c.Body == nil {
				t.Fatal("oneof lost")
			}
			var got []byte
			switch b := c.Body.(type) {
			case *dmpb.Content_GroupInvite:
				got = b.GroupInvite
			case *dmpb.Content_GroupKey:
				got = b.GroupKey
			case *dmpb.Content_GroupDecline:
				got = b.GroupDecline
			case *dmpb.Content_GroupLeave:
				got = b.GroupLeave
			case *dmpb.Content_GroupRemoved:
				got = b.GroupRemoved
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("group control %x, want %x", got, want)
			}
			back, err := proto.MarshalOptions{Deterministic: true}.Marshal(&c)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(back, enc) {
				t.Fatalf("re-encoded %x, want %x", back, enc)
			}
		})
	}
}

// TestFramesCompatible: frames and prekey messages keep the old encodings.
func TestFramesCompatible(t *testing.T) {
	for _, tc := range []struct {
		m    proto.Message
		want string
	}{
		{&dmpb.Frame{Body: &dmpb.Frame_Envelope{Envelope: &dmpb.Envelope{Id: []byte{1}, RatchetMessage: []byte{2}, Stamp: []byte{3}, InviteToken: []byte{4}}}}, "0a0c0a01011201021a0103220104"},
		{&dmpb.Frame{Body: &dmpb.Frame_Ack{Ack: &dmpb.Ack{Id: []byte{1}, Status: dmpb.Ack_RETRY_LATER, Reason: "later"}}}, "120c0a010110011a056c61746572"},
		{&dmpb.PreKeyResponse{Bundle: []byte{1, 2}, Error: "e"}, "0a020102120165"},
	} {
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(tc.m)
		if got := hex.EncodeToString(b); got != tc.want {
			t.Errorf("%T: %s, want %s", tc.m, got, tc.want)
		}
	}
}
