package storage

import (
	"bytes"
	"errors"
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

// FuzzDecodeRoomRecord feeds arbitrary bytes to the room record decoders:
// they must return ErrCorrupt, never panic, and what they accept must encode
// and decode to the same value.
func FuzzDecodeRoomRecord(f *testing.F) {
	sender := peer.ID("fuzz-sender")
	room := RoomID{1, 2, 3}
	for _, r := range []proto.Message{
		&storepb.RoomMessage{Id: make([]byte, 32), SentUnixNano: 5, ReceivedUnixNano: 6, Data: []byte("signed")},
		&storepb.RoomMessage{Id: []byte{1}, Data: []byte("x")},
		&storepb.Room{SignedDescriptor: []byte("d"), Name: "room", Joined: true, JoinedAtUnixNano: 7, UpdatedUnixNano: 8},
	} {
		b, err := proto.Marshal(r)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add(encodeRoomRef(sender, 42))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if m, err := decodeRoomMessage(room, sender, 42, b); err == nil {
			again, err := proto.Marshal(&storepb.RoomMessage{
				Id: m.ID[:], SentUnixNano: toUnixNano(m.Sent), ReceivedUnixNano: toUnixNano(m.Received), Data: m.Data,
			})
			if err != nil {
				t.Fatalf("accepted room message does not encode: %v", err)
			}
			m2, err := decodeRoomMessage(room, sender, 42, again)
			if err != nil || !roomMsgEqual(m, m2) {
				t.Fatalf("room message round trip: %+v, %v; want %+v", m2, err, m)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("room message: %v, want ErrCorrupt", err)
		}
		if r, err := decodeRoom(room, b); err == nil {
			again, err := proto.Marshal(&storepb.Room{
				SignedDescriptor: r.Descriptor, Name: r.Name, Joined: r.Joined,
				JoinedAtUnixNano: toUnixNano(r.JoinedAt), UpdatedUnixNano: toUnixNano(r.Updated),
			})
			if err != nil {
				t.Fatalf("accepted room does not encode: %v", err)
			}
			r2, err := decodeRoom(room, again)
			if err != nil || !roomEqual(r, r2) {
				t.Fatalf("room round trip: %+v, %v; want %+v", r2, err, r)
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("room: %v, want ErrCorrupt", err)
		}
		if p, seq, err := decodeRoomRef(b); err == nil {
			if !bytes.Equal(encodeRoomRef(p, seq), b) {
				t.Fatalf("reference %x re-encodes to %x", b, encodeRoomRef(p, seq))
			}
		} else if !errors.Is(err, ErrCorrupt) {
			t.Fatalf("reference: %v, want ErrCorrupt", err)
		}
		if _, err := decodeHighWater(b); err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("high water: %v, want ErrCorrupt", err)
		}
	})
}

// FuzzDecodeRoomBallot feeds arbitrary key tails and records to the room
// ballot decoder: it must return ErrCorrupt, never panic, and what it
// accepts must encode and decode to the same ballot.
func FuzzDecodeRoomBallot(f *testing.F) {
	room := RoomID{1, 2, 3}
	good := ballot(room, peer.ID("fuzz-voter"), 3, "👍", 9)
	tail, err := ballotTail(good)
	if err != nil {
		f.Fatal(err)
	}
	rec, err := proto.Marshal(&storepb.RoomBallot{TimeUnixNano: toUnixNano(good.Time), Data: good.Data})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(tail, rec)
	f.Add(tail[:len(tail)-1], rec[:len(rec)/2])
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, tail, rec []byte) {
		b, err := decodeRoomBallot(room, tail, rec)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("room ballot: %v, want ErrCorrupt", err)
			}
			return
		}
		againTail, err := ballotTail(b)
		if err != nil {
			t.Fatalf("accepted ballot has no key: %v", err)
		}
		if !bytes.Equal(againTail, tail) {
			t.Fatalf("key tail %x re-encodes to %x", tail, againTail)
		}
		againRec, err := proto.Marshal(&storepb.RoomBallot{TimeUnixNano: toUnixNano(b.Time), Data: b.Data})
		if err != nil {
			t.Fatalf("accepted ballot does not encode: %v", err)
		}
		b2, err := decodeRoomBallot(room, againTail, againRec)
		if err != nil || !ballotEqual(b, b2) {
			t.Fatalf("room ballot round trip: %+v, %v; want %+v", b2, err, b)
		}
	})
}
