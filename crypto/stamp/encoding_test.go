package stamp

import (
	"bytes"
	"errors"
	"testing"
)

func TestEncodingRoundTrip(t *testing.T) {
	c := testContext(t)
	made := makeStamp(t, c, DayOf(now), 8)
	for _, s := range []Stamp{
		made,
		{Version: 1},
		{Version: 1, Difficulty: MaxDifficulty, Day: ^Day(0), Nonce: ^uint64(0)},
	} {
		enc, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("MarshalBinary(%+v): %v", s, err)
		}
		if len(enc) > MaxEncodedSize {
			t.Errorf("%+v encodes to %d bytes, above MaxEncodedSize", s, len(enc))
		}
		back, err := UnmarshalStamp(enc)
		if err != nil {
			t.Fatalf("UnmarshalStamp(%x): %v", enc, err)
		}
		if back != s {
			t.Errorf("round trip: got %+v, want %+v", back, s)
		}
	}
	back, err := UnmarshalStamp(mustMarshal(t, made))
	if err != nil {
		t.Fatal(err)
	}
	if err := back.Verify(c, 8, now); err != nil {
		t.Errorf("decoded stamp does not verify: %v", err)
	}
}

// TestEncodingKnownAnswer pins the protobuf encoding, worked out by hand:
// field 1 (version) = 1, field 2 (difficulty) = 11, field 3 (day) = 20000,
// field 4 (nonce) = 12345, all varints.
func TestEncodingKnownAnswer(t *testing.T) {
	s := Stamp{Version: 1, Difficulty: 11, Day: 20000, Nonce: 12345}
	want := unhex(t, "0801"+"100b"+"18a09c01"+"20b960")
	if got := mustMarshal(t, s); !bytes.Equal(got, want) {
		t.Errorf("MarshalBinary = %x, want %x", got, want)
	}
}

func TestMarshalRejects(t *testing.T) {
	for _, s := range []Stamp{{}, {Version: 2}, {Version: 1, Difficulty: MaxDifficulty + 1}} {
		if _, err := s.MarshalBinary(); !errors.Is(err, ErrBadStamp) {
			t.Errorf("MarshalBinary(%+v) = %v, want ErrBadStamp", s, err)
		}
	}
}

func TestUnmarshalRejects(t *testing.T) {
	tests := []struct {
		name string
		hex  string
	}{
		{"empty (version 0)", ""},
		{"version 0 explicit", "0800100b"},
		{"version 2", "0802100b"},
		{"version overflowing uint8", "08810210"},
		{"difficulty above maximum", "08011019"},
		{"difficulty overflowing uint8", "0801108102"},
		{"unknown field", "08012801"},
		{"truncated varint", "08011081"},
		{"truncated field", "080110"},
		{"wrong wire type", "0d01000000"},
		{"too long", "0801" + "20b960" + "0000000000000000000000000000000000000000000000000000"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := unhex(t, tc.hex)
			if s, err := UnmarshalStamp(b); !errors.Is(err, ErrBadStamp) {
				t.Errorf("UnmarshalStamp(%x) = %+v, %v; want ErrBadStamp", b, s, err)
			}
		})
	}
}

func mustMarshal(tb testing.TB, s Stamp) []byte {
	tb.Helper()
	b, err := s.MarshalBinary()
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func FuzzUnmarshalStamp(f *testing.F) {
	for _, s := range []Stamp{
		{Version: 1},
		{Version: 1, Difficulty: DefaultDifficulty, Day: 20782, Nonce: 583},
		{Version: 1, Difficulty: MaxDifficulty, Day: ^Day(0), Nonce: ^uint64(0)},
	} {
		f.Add(mustMarshal(f, s))
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := UnmarshalStamp(data)
		if err != nil {
			if !errors.Is(err, ErrBadStamp) {
				t.Fatalf("error %v is not ErrBadStamp", err)
			}
			return
		}
		enc, err := s.MarshalBinary()
		if err != nil {
			t.Fatalf("accepted stamp %+v does not encode: %v", s, err)
		}
		back, err := UnmarshalStamp(enc)
		if err != nil {
			t.Fatalf("re-encoded stamp does not decode: %v", err)
		}
		if back != s {
			t.Fatalf("round trip changed the stamp: %+v, then %+v", s, back)
		}
	})
}
