package room

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room/internal/roompb"
)

func TestMessageRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name string
		kind Kind
		body []byte
	}{
		{"chat", KindChat, []byte("hello, room")},
		{"presence, empty body", KindPresence, nil},
		{"largest body", KindQuestion, bytes.Repeat([]byte{'q'}, MaxBody)},
	} {
		m := f.message(t, tc.kind, 7, tc.body)
		if m.Sender != f.alice.Public() {
			t.Errorf("%s: Sign did not set the sender", tc.name)
		}
		enc, err := m.MarshalBinary()
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(enc) > MaxMessageSize {
			t.Errorf("%s: encoding is %d bytes, over MaxMessageSize", tc.name, len(enc))
		}
		back, err := UnmarshalMessage(enc)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !reflect.DeepEqual(back, m) {
			t.Errorf("%s: round trip changed the message:\n got %+v\nwant %+v", tc.name, back, m)
		}
		if err := back.Verify(f.room); err != nil {
			t.Errorf("%s: decoded message does not verify: %v", tc.name, err)
		}
		if back.ID() != m.ID() || WireMessageID(enc) != m.ID() {
			t.Errorf("%s: message ID changed across the wire", tc.name)
		}
	}
}

func TestMessageSignRoundsTimestamp(t *testing.T) {
	f := newFixture(t)
	local := time.FixedZone("somewhere", 5*3600)
	m := Message{Room: f.room, Kind: KindChat, Seq: 1, Timestamp: t0.Add(1234567 * time.Nanosecond).In(local)}
	if err := m.Sign(f.alice); err != nil {
		t.Fatal(err)
	}
	if want := t0.Add(time.Millisecond); m.Timestamp != want {
		t.Errorf("Timestamp = %v, want %v in UTC", m.Timestamp, want)
	}
}

// Every field is covered by the signature, and the room by a distinct check.
func TestMessageTampered(t *testing.T) {
	f := newFixture(t)
	orig := f.message(t, KindChat, 5, []byte("the original words"))
	other := f.otherRoom(t)
	tests := []struct {
		name   string
		change func(m *Message)
		room   ID // the room Verify is told; f.room if zero
		want   error
	}{
		{"untouched", func(*Message) {}, ID{}, nil},
		{"replayed into another room", func(*Message) {}, other, ErrWrongRoom},
		{"room rewritten to the other room", func(m *Message) { m.Room = other }, other, ErrBadSignature},
		{"room bit flipped", func(m *Message) { m.Room[31] ^= 0x80 }, ID{}, ErrWrongRoom},
		{"kind changed", func(m *Message) { m.Kind = KindQuestion }, ID{}, ErrBadSignature},
		{"kind unknown", func(m *Message) { m.Kind = 42 }, ID{}, ErrUnknownKind},
		{"seq bumped", func(m *Message) { m.Seq++ }, ID{}, ErrBadSignature},
		{"seq bit flipped", func(m *Message) { m.Seq ^= 1 << 40 }, ID{}, ErrBadSignature},
		{"timestamp moved 1 ms", func(m *Message) { m.Timestamp = m.Timestamp.Add(time.Millisecond) }, ID{}, ErrBadSignature},
		{"body bit flipped", func(m *Message) { m.Body = flipBit(m.Body, 3) }, ID{}, ErrBadSignature},
		{"body extended", func(m *Message) { m.Body = append(append([]byte(nil), m.Body...), 0) }, ID{}, ErrBadSignature},
		{"body cut", func(m *Message) { m.Body = m.Body[:len(m.Body)-1] }, ID{}, ErrBadSignature},
		{"body dropped", func(m *Message) { m.Body = nil }, ID{}, ErrBadSignature},
		{"sender replaced", func(m *Message) { m.Sender = f.mallory.Public() }, ID{}, ErrBadSignature},
		{"sender bit flipped", func(m *Message) { m.Sender = otherKey(m.Sender) }, ID{}, ErrBadSignature},
		{"signature R bit flipped", func(m *Message) { m.Signature[0] ^= 1 }, ID{}, ErrBadSignature},
		{"signature S bit flipped", func(m *Message) { m.Signature[40] ^= 1 }, ID{}, ErrBadSignature},
		{"signature missing", func(m *Message) { m.Signature = [keys.SignatureSize]byte{} }, ID{}, ErrBadSignature},
		{"signed by mallory as alice", func(m *Message) {
			copy(m.Signature[:], f.mallory.Sign(domainMessage, m.signedBytes()))
		}, ID{}, ErrBadSignature},
		{"signature from another domain", func(m *Message) {
			copy(m.Signature[:], f.alice.Sign("room/grant/v1", m.signedBytes()))
		}, ID{}, ErrBadSignature},
		{"seq zero", func(m *Message) { m.Seq = 0 }, ID{}, ErrInvalid},
		{"zero sender", func(m *Message) { m.Sender = keys.PublicKey{} }, ID{}, ErrInvalid},
	}
	for _, tc := range tests {
		m := orig
		m.Body = append([]byte(nil), orig.Body...)
		tc.change(&m)
		room := tc.room
		if room.IsZero() {
			room = f.room
		}
		wantErr(t, tc.name, m.Verify(room), tc.want)
	}
}

// Mallory re-signs alice's words as her own: a valid message, but from her.
func TestMessageResignedIsAnotherMessage(t *testing.T) {
	f := newFixture(t)
	m := f.message(t, KindChat, 1, []byte("hi"))
	stolen := m
	if err := stolen.Sign(f.mallory); err != nil {
		t.Fatal(err)
	}
	if err := stolen.Verify(f.room); err != nil {
		t.Fatal(err)
	}
	if stolen.Sender == m.Sender || stolen.ID() == m.ID() {
		t.Error("a re-signed message kept the sender or the ID")
	}
}

func TestMessageSignErrors(t *testing.T) {
	f := newFixture(t)
	valid := Message{Room: f.room, Kind: KindChat, Seq: 1, Timestamp: t0, Body: []byte("x")}
	tests := []struct {
		name   string
		change func(m *Message)
		key    keys.PrivateKey
		want   error
	}{
		{"valid", func(*Message) {}, f.alice, nil},
		{"body over MaxBody", func(m *Message) { m.Body = make([]byte, MaxBody+1) }, f.alice, ErrTooLarge},
		{"unknown kind", func(m *Message) { m.Kind = maxKind + 1 }, f.alice, ErrUnknownKind},
		{"zero kind", func(m *Message) { m.Kind = 0 }, f.alice, ErrUnknownKind},
		{"zero room", func(m *Message) { m.Room = ID{} }, f.alice, ErrInvalid},
		{"seq zero", func(m *Message) { m.Seq = 0 }, f.alice, ErrInvalid},
		{"no timestamp", func(m *Message) { m.Timestamp = time.Time{} }, f.alice, ErrInvalid},
		{"timestamp 1970", func(m *Message) { m.Timestamp = time.Unix(0, 0) }, f.alice, ErrInvalid},
		{"timestamp before 1970", func(m *Message) { m.Timestamp = time.Unix(-1, 0) }, f.alice, ErrInvalid},
		{"zero private key", func(*Message) {}, keys.PrivateKey{}, ErrInvalid},
	}
	for _, tc := range tests {
		m := valid
		tc.change(&m)
		before := m
		err := m.Sign(tc.key)
		wantErr(t, tc.name, err, tc.want)
		if err != nil && !reflect.DeepEqual(m, before) {
			t.Errorf("%s: a failed Sign changed the message", tc.name)
		}
	}
	if _, err := (Message{}).MarshalBinary(); err == nil {
		t.Error("MarshalBinary encoded the zero message")
	}
	unsigned := valid
	unsigned.Sender = f.alice.Public()
	if _, err := unsigned.MarshalBinary(); !errorsIs(err, ErrBadSignature) {
		t.Errorf("MarshalBinary of an unsigned message: err = %v, want ErrBadSignature", err)
	}
}

// wireMessage returns the protobuf form of a valid signed message, to break.
func wireMessage(t *testing.T, m Message) *roompb.Message {
	t.Helper()
	enc, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var pb roompb.Message
	if err := proto.Unmarshal(enc, &pb); err != nil {
		t.Fatal(err)
	}
	return &pb
}

func TestUnmarshalMessageErrors(t *testing.T) {
	f := newFixture(t)
	m := f.message(t, KindChat, 3, []byte("hello"))
	tests := []struct {
		name   string
		change func(pb *roompb.Message)
		want   error
	}{
		{"valid", func(*roompb.Message) {}, nil},
		{"version 0", func(pb *roompb.Message) { pb.Version = 0 }, ErrVersion},
		{"version 2", func(pb *roompb.Message) { pb.Version = 2 }, ErrVersion},
		{"kind 0", func(pb *roompb.Message) { pb.Kind = 0 }, ErrUnknownKind},
		{"kind 12", func(pb *roompb.Message) { pb.Kind = 12 }, ErrUnknownKind},
		{"kind 257 (chat if wrapped to a byte)", func(pb *roompb.Message) { pb.Kind = 257 }, ErrUnknownKind},
		{"kind negative", func(pb *roompb.Message) { pb.Kind = -1 }, ErrUnknownKind},
		{"body over MaxBody", func(pb *roompb.Message) { pb.Body = make([]byte, MaxBody+1) }, ErrTooLarge},
		{"short room", func(pb *roompb.Message) { pb.Room = pb.Room[:31] }, ErrMalformed},
		{"zero room", func(pb *roompb.Message) { pb.Room = make([]byte, 32) }, ErrMalformed},
		{"no room", func(pb *roompb.Message) { pb.Room = nil }, ErrMalformed},
		{"long sender", func(pb *roompb.Message) { pb.Sender = append(pb.Sender, 0) }, ErrMalformed},
		{"zero sender", func(pb *roompb.Message) { pb.Sender = make([]byte, 32) }, keys.ErrZeroKey},
		{"short signature", func(pb *roompb.Message) { pb.Signature = pb.Signature[:63] }, ErrMalformed},
		{"zero signature", func(pb *roompb.Message) { pb.Signature = make([]byte, 64) }, ErrBadSignature},
		{"seq 0", func(pb *roompb.Message) { pb.Seq = 0 }, ErrInvalid},
		{"timestamp 0", func(pb *roompb.Message) { pb.TimestampUnixMs = 0 }, ErrInvalid},
		{"timestamp negative", func(pb *roompb.Message) { pb.TimestampUnixMs = -5 }, ErrInvalid},
	}
	for _, tc := range tests {
		pb := wireMessage(t, m)
		tc.change(pb)
		enc, err := proto.Marshal(pb)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		_, err = UnmarshalMessage(enc)
		wantErr(t, tc.name, err, tc.want)
	}

	enc, _ := m.MarshalBinary()
	raw := []struct {
		name string
		data []byte
		want error
	}{
		{"empty", nil, ErrVersion},
		{"not protobuf", []byte{0xff, 0xff, 0xff}, ErrMalformed},
		{"truncated", enc[:len(enc)-1], ErrMalformed},
		{"over MaxMessageSize", make([]byte, MaxMessageSize+1), ErrTooLarge},
	}
	for _, tc := range raw {
		_, err := UnmarshalMessage(tc.data)
		wantErr(t, tc.name, err, tc.want)
	}
}

// No single flipped bit of an encoding gives a different message that
// verifies.
func TestMessageBitFlips(t *testing.T) {
	f := newFixture(t)
	m := f.message(t, KindQuestion, 300, []byte("what is the plan?"))
	enc, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	accepted := 0
	for bit := range len(enc) * 8 {
		got, err := UnmarshalMessage(flipBit(enc, bit))
		if err != nil {
			continue
		}
		if err := got.Verify(f.room); err != nil {
			continue
		}
		accepted++
		if got.ID() != m.ID() {
			t.Errorf("bit %d: a changed message verifies: %+v", bit, got)
		}
	}
	t.Logf("%d of %d flipped bits still decode to the same, valid message", accepted, len(enc)*8)
}

// A relay that re-encodes a message (here: adds an unknown field) does not
// change its ID, so GossipSub still sees it as a duplicate; a relay that
// corrupts it does, so it cannot shadow the real one.
func TestWireMessageID(t *testing.T) {
	f := newFixture(t)
	m := f.message(t, KindChat, 1, []byte("hi"))
	enc, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	padded := protowire.AppendTag(append([]byte(nil), enc...), 99, protowire.BytesType)
	padded = protowire.AppendBytes(padded, []byte("junk"))
	if WireMessageID(padded) != m.ID() {
		t.Error("an unknown field changed the message ID")
	}
	corrupt := m
	corrupt.Signature[10] ^= 1
	cenc, err := corrupt.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if WireMessageID(cenc) == m.ID() {
		t.Error("a copy with a corrupted signature has the real message's ID")
	}
	if WireMessageID([]byte("junk")) == WireMessageID([]byte("junk2")) || WireMessageID(nil) == m.ID() {
		t.Error("undecodable data shares an ID")
	}
	if s := m.ID().String(); len(s) != 64 || strings.Trim(s, "0123456789abcdef") != "" {
		t.Errorf("MessageID.String() = %q, want 64 hex digits", s)
	}
}
