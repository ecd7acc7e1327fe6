package room

import (
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room/internal/roompb"
)

// someTarget is a message ID a ballot may name.
var someTarget = MessageID{0x5e, 1, 2, 3}

// ballot returns alice's ballot on someTarget with emoji (empty: an
// upvote), signed at t0.
func (f fixture) ballot(t testing.TB, emoji string) Ballot {
	t.Helper()
	b := Ballot{Room: f.room, Target: someTarget, Emoji: emoji, Time: t0}
	if err := b.Sign(f.alice); err != nil {
		t.Fatal(err)
	}
	return b
}

// resignBallot returns b signed by sk over its fields as they are,
// bypassing Sign's checks, as a forger or a buggy voter would.
func resignBallot(b Ballot, sk keys.PrivateKey) Ballot {
	copy(b.Signature[:], sk.Sign(domainBallot, b.signedBytes()))
	return b
}

func TestBallotRoundTrip(t *testing.T) {
	f := newFixture(t)
	for _, emoji := range []string{"", "👍", strings.Repeat("🎉", MaxBallotEmoji/4)} {
		b := f.ballot(t, emoji)
		if b.Voter != f.alice.Public() || b.Upvote() != (emoji == "") {
			t.Fatalf("signed ballot %+v", b)
		}
		enc, err := b.MarshalBinary()
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) > MaxBallotSize {
			t.Errorf("%q: encoding is %d bytes, over MaxBallotSize", emoji, len(enc))
		}
		back, err := UnmarshalBallot(enc)
		if err != nil {
			t.Fatal(err)
		}
		if back != b {
			t.Errorf("%q: round trip changed the ballot:\n got %+v\nwant %+v", emoji, back, b)
		}
		if err := back.Verify(f.room); err != nil {
			t.Errorf("%q: %v", emoji, err)
		}
		if back.ID() != b.ID() {
			t.Errorf("%q: ID changed across a round trip", emoji)
		}
	}
	// A ballot's ID is its own: an upvote and a reaction, or two times,
	// differ; and it is never the ID of a message with the same fields.
	up, react := f.ballot(t, ""), f.ballot(t, "👍")
	later := Ballot{Room: f.room, Target: someTarget, Time: t0.Add(time.Millisecond)}
	if err := later.Sign(f.alice); err != nil {
		t.Fatal(err)
	}
	if up.ID() == react.ID() || up.ID() == later.ID() {
		t.Error("distinct ballots share an ID")
	}
}

func TestBallotVerify(t *testing.T) {
	f := newFixture(t)
	b := f.ballot(t, "👍")
	other := f.otherRoom(t)
	tests := []struct {
		name   string
		ballot Ballot
		room   ID
		want   error
	}{
		{"valid", b, f.room, nil},
		{"valid upvote", f.ballot(t, ""), f.room, nil},
		{"for another room", b, other, ErrWrongRoom},
		{"room rewritten to another room", func() Ballot { c := b; c.Room = other; return c }(), other, ErrBadSignature},
		{"forged: signed by another key", resignBallot(b, f.mallory), f.room, ErrBadSignature},
		{"voter replaced", func() Ballot { c := b; c.Voter = f.mallory.Public(); return c }(), f.room, ErrBadSignature},
		{"target changed", func() Ballot { c := b; c.Target[0] ^= 1; return c }(), f.room, ErrBadSignature},
		{"emoji changed", func() Ballot { c := b; c.Emoji = "👎"; return c }(), f.room, ErrBadSignature},
		{"reaction made an upvote", func() Ballot { c := b; c.Emoji = ""; return c }(), f.room, ErrBadSignature},
		{"time changed", func() Ballot { c := b; c.Time = c.Time.Add(time.Millisecond); return c }(), f.room, ErrBadSignature},
		{"signature bit flipped", func() Ballot { c := b; c.Signature[9] ^= 2; return c }(), f.room, ErrBadSignature},
		{"unsigned", func() Ballot { c := b; c.Signature = [keys.SignatureSize]byte{}; return c }(), f.room, ErrBadSignature},
		{"emoji too long", resignBallot(func() Ballot { c := b; c.Emoji = strings.Repeat("a", MaxBallotEmoji+1); return c }(), f.alice), f.room, ErrTooLarge},
		{"emoji not UTF-8", resignBallot(func() Ballot { c := b; c.Emoji = "\xff"; return c }(), f.alice), f.room, ErrInvalid},
		{"zero target", resignBallot(func() Ballot { c := b; c.Target = MessageID{}; return c }(), f.alice), f.room, ErrInvalid},
		{"zero voter", func() Ballot { c := b; c.Voter = keys.PublicKey{}; return c }(), f.room, ErrInvalid},
		{"zero room", func() Ballot { c := b; c.Room = ID{}; return c }(), ID{}, ErrInvalid},
		{"zero time", resignBallot(func() Ballot { c := b; c.Time = time.Time{}; return c }(), f.alice), f.room, ErrInvalid},
	}
	for _, tc := range tests {
		wantErr(t, tc.name, tc.ballot.Verify(tc.room), tc.want)
	}
}

func TestBallotSignErrors(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		ballot Ballot
		key    keys.PrivateKey
		want   error
	}{
		{"valid", Ballot{Room: f.room, Target: someTarget, Time: t0}, f.alice, nil},
		{"longest emoji", Ballot{Room: f.room, Target: someTarget, Emoji: strings.Repeat("a", MaxBallotEmoji), Time: t0}, f.alice, nil},
		{"emoji too long", Ballot{Room: f.room, Target: someTarget, Emoji: strings.Repeat("a", MaxBallotEmoji+1), Time: t0}, f.alice, ErrTooLarge},
		{"emoji not UTF-8", Ballot{Room: f.room, Target: someTarget, Emoji: "a\xc3", Time: t0}, f.alice, ErrInvalid},
		{"zero target", Ballot{Room: f.room, Time: t0}, f.alice, ErrInvalid},
		{"zero room", Ballot{Target: someTarget, Time: t0}, f.alice, ErrInvalid},
		{"no time", Ballot{Room: f.room, Target: someTarget}, f.alice, ErrInvalid},
		{"zero key", Ballot{Room: f.room, Target: someTarget, Time: t0}, keys.PrivateKey{}, ErrInvalid},
	}
	for _, tc := range tests {
		b := tc.ballot
		err := b.Sign(tc.key)
		wantErr(t, tc.name, err, tc.want)
		if err != nil && b != tc.ballot {
			t.Errorf("%s: a failed Sign changed the ballot", tc.name)
		}
	}
	// An unsigned ballot does not encode.
	if _, err := (Ballot{Room: f.room, Target: someTarget, Voter: f.alice.Public(), Time: t0}).MarshalBinary(); !errorsIs(err, ErrBadSignature) {
		t.Errorf("MarshalBinary of an unsigned ballot: %v, want ErrBadSignature", err)
	}
}

func TestUnmarshalBallotErrors(t *testing.T) {
	f := newFixture(t)
	b := f.ballot(t, "👍")
	good := func() *roompb.Ballot {
		return &roompb.Ballot{Version: version, Room: f.room[:], Target: b.Target[:], Emoji: b.Emoji, Voter: b.Voter[:],
			TimeUnixMs: unixMilli(b.Time), Signature: b.Signature[:]}
	}
	enc := func(t *testing.T, change func(*roompb.Ballot)) []byte {
		pb := good()
		change(pb)
		data, err := proto.Marshal(pb)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	tests := []struct {
		name string
		data []byte
		want error
	}{
		{"good", enc(t, func(*roompb.Ballot) {}), nil},
		{"too large", make([]byte, MaxBallotSize+1), ErrTooLarge},
		{"not protobuf", []byte{0xff, 0xff}, ErrMalformed},
		{"version 2", enc(t, func(pb *roompb.Ballot) { pb.Version = 2 }), ErrVersion},
		{"short room", enc(t, func(pb *roompb.Ballot) { pb.Room = pb.Room[:31] }), ErrMalformed},
		{"short target", enc(t, func(pb *roompb.Ballot) { pb.Target = pb.Target[:31] }), ErrMalformed},
		{"no target", enc(t, func(pb *roompb.Ballot) { pb.Target = nil }), ErrMalformed},
		{"zero target", enc(t, func(pb *roompb.Ballot) { pb.Target = make([]byte, 32) }), ErrInvalid},
		{"short voter", enc(t, func(pb *roompb.Ballot) { pb.Voter = pb.Voter[:31] }), ErrMalformed},
		{"short signature", enc(t, func(pb *roompb.Ballot) { pb.Signature = pb.Signature[:63] }), ErrMalformed},
		{"zero signature", enc(t, func(pb *roompb.Ballot) { pb.Signature = make([]byte, 64) }), ErrBadSignature},
		{"emoji too long", enc(t, func(pb *roompb.Ballot) { pb.Emoji = strings.Repeat("a", MaxBallotEmoji+1) }), ErrTooLarge},
		{"no time", enc(t, func(pb *roompb.Ballot) { pb.TimeUnixMs = 0 }), ErrInvalid},
		{"time before 1970", enc(t, func(pb *roompb.Ballot) { pb.TimeUnixMs = -5 }), ErrInvalid},
	}
	for _, tc := range tests {
		_, err := UnmarshalBallot(tc.data)
		wantErr(t, tc.name, err, tc.want)
	}
}
