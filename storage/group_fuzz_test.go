package storage

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// FuzzDecodeGroupRecord feeds arbitrary bytes to the group record decoders:
// they must return ErrCorrupt, never panic, and what they accept must encode
// and decode to the same value.
func FuzzDecodeGroupRecord(f *testing.F) {
	g := groupID(1)
	sender := peerN(1)
	for _, r := range []proto.Message{
		&storepb.Group{Secret: make([]byte, 32), Name: "g", State: 2, Inviter: []byte(sender), InviteMessage: make([]byte, 16), BaseEpoch: 3},
		&storepb.Group{State: 9},
		&storepb.ParkedGroupKey{From: []byte(sender), Key: []byte("k"), Roster: []byte("r")},
		&storepb.GroupEnvelope{Id: make([]byte, 32), Data: []byte("env"), ReceivedUnixNano: 5, Opened: true},
		&storepb.GroupMessage{Epoch: 1, Sender: []byte(sender), Seq: 2, Kind: "text", Body: "hi", ReplyTo: make([]byte, 32)},
		&storepb.GroupAnnotation{SentUnixNano: 4, Id: make([]byte, 32), Value: "yes"},
		&storepb.GroupReceipt{Delivered: []*storepb.GroupMark{{Epoch: 1, Sender: []byte(sender), Next: 4}}},
		&storepb.GroupMemberName{Name: "Bob", SentUnixNano: 6, Id: make([]byte, 32), Epoch: 2},
	} {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(encodeGroupRef(3, sender, 4))
	f.Add([]byte{})
	mustCorrupt := func(t *testing.T, what string, err error) {
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: %v, want ErrCorrupt", what, err)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		gr, err := decodeGroup(g, b)
		mustCorrupt(t, "group", err)
		if err == nil && gr.State.valid() {
			s := openMem(t)
			update(t, s, func(tx *Txn) error { return tx.PutGroup(gr) })
			view(t, s, func(tx *Txn) error {
				again, err := tx.Group(g)
				if err != nil || !groupEqual(gr, again) {
					t.Fatalf("group round trip: %+v, %v; want %+v", again, err, gr)
				}
				return nil
			})
		}
		_, err = decodeParkedGroupKey(1, b)
		mustCorrupt(t, "parked key", err)
		if e, err := decodeGroupEnvelope(g, 1, sender, 2, b); err == nil {
			again, _ := proto.Marshal(&storepb.GroupEnvelope{Id: e.ID[:], Data: e.Data, ReceivedUnixNano: toUnixNano(e.Received), Opened: e.Opened})
			e2, err := decodeGroupEnvelope(g, 1, sender, 2, again)
			if err != nil || e2.ID != e.ID || !bytes.Equal(e2.Data, e.Data) || e2.Opened != e.Opened || !e2.Received.Equal(e.Received) {
				t.Fatalf("envelope round trip: %+v, %v; want %+v", e2, err, e)
			}
		} else {
			mustCorrupt(t, "envelope", err)
		}
		_, err = decodeGroupMessage(g, 42, [32]byte{1}, b)
		mustCorrupt(t, "message", err)
		_, err = decodeGroupReceipt(sender, b)
		mustCorrupt(t, "receipt", err)
		if n, err := decodeGroupMemberName(sender, b); err == nil {
			s := openMem(t)
			update(t, s, func(tx *Txn) error { return tx.PutGroupMemberName(g, n) })
			view(t, s, func(tx *Txn) error {
				again, err := tx.GroupMemberName(g, sender)
				if err != nil || again.Name != n.Name || !again.Sent.Equal(n.Sent) || again.ID != n.ID || again.Epoch != n.Epoch {
					t.Fatalf("member name round trip: %+v, %v; want %+v", again, err, n)
				}
				return nil
			})
		} else {
			mustCorrupt(t, "member name", err)
		}
		if len(b) > 0 {
			_, err = decodeGroupNote(g, [32]byte{2}, b[:len(b)/2], b[len(b)/2:])
			mustCorrupt(t, "note", err)
		}
		if epoch, p, seq, err := decodeGroupRef(b); err == nil {
			if !bytes.Equal(encodeGroupRef(epoch, p, seq), b) {
				t.Fatalf("reference %x re-encodes differently", b)
			}
		} else {
			mustCorrupt(t, "reference", err)
		}
	})
}
