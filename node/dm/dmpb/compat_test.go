package dmpb_test

import (
	"bytes"
	"testing"

	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/node/dm/dmpb"
	old "github.com/backchannel/backchannel/node/internal/dmpb"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestGroupControlsCompatible: a group control content encoded with the old
// Content (message fields) decodes with dm's Content (bytes fields of the
// same numbers) to exactly the group message's encoding, and back, so the
// wire and outbox entries stored by older nodes are unchanged.
func TestGroupControlsCompatible(t *testing.T) {
	id := bytes.Repeat([]byte{7}, 16)
	for _, c := range []*old.Content{
		{Id: id, SentUnixNano: 5, Body: &old.Content_GroupInvite{GroupInvite: &old.GroupInvite{Group: bytes.Repeat([]byte{1}, 32), Secret: bytes.Repeat([]byte{2}, 32), Name: "g", Roster: []byte{3, 4}}}},
		{Id: id, SentUnixNano: 5, Body: &old.Content_GroupKey{GroupKey: &old.GroupKey{Key: []byte{5}, Roster: []byte{6}}}},
		{Id: id, SentUnixNano: 5, Body: &old.Content_GroupDecline{GroupDecline: &old.GroupDecline{Group: []byte{8}}}},
		{Id: id, SentUnixNano: 5, Body: &old.Content_GroupLeave{GroupLeave: &old.GroupLeave{}}},
		{Id: id, SentUnixNano: 5, Body: &old.Content_GroupRemoved{GroupRemoved: &old.GroupRemoved{Group: []byte{9}, Roster: []byte{10}}}},
		{Id: id, SentUnixNano: 5, Body: &old.Content_Text{Text: &old.Text{Body: "hi", ReplyTo: id, Context: "room:x"}}},
		{Id: id, Body: &old.Content_ReadReceipt{ReadReceipt: &old.ReadReceipt{Ids: [][]byte{id}}}},
	} {
		enc, err := proto.MarshalOptions{Deterministic: true}.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var nc dmpb.Content
		if err := proto.Unmarshal(enc, &nc); err != nil {
			t.Fatalf("%T: new type does not decode the old encoding: %v", c.Body, err)
		}
		if nc.Body == nil {
			t.Fatalf("%T: oneof lost", c.Body)
		}
		var want proto.Message
		var got []byte
		switch b := c.Body.(type) {
		case *old.Content_GroupInvite:
			want, got = b.GroupInvite, nc.GetGroupInvite()
		case *old.Content_GroupKey:
			want, got = b.GroupKey, nc.GetGroupKey()
		case *old.Content_GroupDecline:
			want, got = b.GroupDecline, nc.GetGroupDecline()
		case *old.Content_GroupLeave:
			want, got = b.GroupLeave, nc.GetGroupLeave()
		case *old.Content_GroupRemoved:
			want, got = b.GroupRemoved, nc.GetGroupRemoved()
		}
		if want != nil {
			wb, _ := proto.MarshalOptions{Deterministic: true}.Marshal(want)
			if !bytes.Equal(wb, got) {
				t.Fatalf("%T: bytes %x, want the message's encoding %x", c.Body, got, wb)
			}
		}
		back, err := proto.MarshalOptions{Deterministic: true}.Marshal(&nc)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(back, enc) {
			t.Fatalf("%T: re-encoded %x, want %x", c.Body, back, enc)
		}
		var oc old.Content
		if err := proto.Unmarshal(back, &oc); err != nil || !proto.Equal(&oc, c) {
			t.Fatalf("%T: old type does not read the new encoding back: %v", c.Body, err)
		}
	}
}

// TestFramesCompatible: frames and prekey messages keep their encoding.
func TestFramesCompatible(t *testing.T) {
	of := &old.Frame{Body: &old.Frame_Envelope{Envelope: &old.Envelope{Id: []byte{1}, RatchetMessage: []byte{2}, Stamp: []byte{3}, InviteToken: []byte{4}}}}
	nf := &dmpb.Frame{Body: &dmpb.Frame_Envelope{Envelope: &dmpb.Envelope{Id: []byte{1}, RatchetMessage: []byte{2}, Stamp: []byte{3}, InviteToken: []byte{4}}}}
	oa := &old.Frame{Body: &old.Frame_Ack{Ack: &old.Ack{Id: []byte{1}, Status: old.Ack_RETRY_LATER, Reason: "later"}}}
	na := &dmpb.Frame{Body: &dmpb.Frame_Ack{Ack: &dmpb.Ack{Id: []byte{1}, Status: dmpb.Ack_RETRY_LATER, Reason: "later"}}}
	op := &old.PreKeyResponse{Bundle: []byte{1, 2}, Error: "e"}
	np := &dmpb.PreKeyResponse{Bundle: []byte{1, 2}, Error: "e"}
	for _, pair := range [][2]proto.Message{{of, nf}, {oa, na}, {op, np}} {
		a, _ := proto.MarshalOptions{Deterministic: true}.Marshal(pair[0])
		b, _ := proto.MarshalOptions{Deterministic: true}.Marshal(pair[1])
		if !bytes.Equal(a, b) {
			t.Fatalf("%T: %x, want %x", pair[1], b, a)
		}
	}
}
