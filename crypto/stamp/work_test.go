package stamp

import (
	"bytes"
	"encoding/hex"
	"testing"

	"golang.org/x/crypto/argon2"
)

// TestArgon2idReferenceVectors checks the Argon2id primitive, called as this
// package calls it (argon2.IDKey, no secret, no associated data, 32-byte
// tag), against the argon2id version 0x13 vectors of the reference
// implementation (phc-winner-argon2, src/test.c: hashtest(version, t, log2 m,
// p, pwd, salt, hex, ...)).
func TestArgon2idReferenceVectors(t *testing.T) {
	tests := []struct {
		name     string
		time     uint32
		memory   uint32 // KiB
		threads  uint8
		password string
		salt     string
		want     string
	}{
		{"t=2 m=2^8 p=1", 2, 1 << 8, 1, "password", "somesalt", "9dfeb910e80bad0311fee20f9c0e2b12c17987b4cac90c2ef54d5b3021c68bfe"},
		{"t=2 m=2^8 p=2", 2, 1 << 8, 2, "password", "somesalt", "6d093c501fd5999645e0ea3bf620d7b8be7fd2db59c20d9fff9539da2bf57037"},
		{"t=2 m=2^16 p=1", 2, 1 << 16, 1, "password", "somesalt", "09316115d5cf24ed5a15a31a3ba326e5cf32edc24702987c02b6566f61913cf7"},
		{"t=1 m=2^16 p=1", 1, 1 << 16, 1, "password", "somesalt", "f6a5adc1ba723dddef9b5ac1d464e180fcd9dffc9d1cbf76cca2fed795d9ca98"},
		{"t=2 m=2^16 p=1 diffsalt", 2, 1 << 16, 1, "password", "diffsalt", "bdf32b05ccc42eb15d58fd19b1f856b113da1e9a5874fdcc544308565aa8141c"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if testing.Short() && tc.memory > 1<<8 {
				t.Skip("64 MiB vector skipped in -short mode")
			}
			got := argon2.IDKey([]byte(tc.password), []byte(tc.salt), tc.time, tc.memory, tc.threads, 32)
			if hex.EncodeToString(got) != tc.want {
				t.Errorf("IDKey = %x, want %s", got, tc.want)
			}
		})
	}
}

// TestChallengeLayout pins the Argon2 input byte for byte, written out by
// hand from the documented layout.
func TestChallengeLayout(t *testing.T) {
	c := testContext(t)
	var want []byte
	want = append(want, 0, 0, 0, 20)
	want = append(want, "backchannel/stamp/v1"...)
	want = append(want, unhex(t, "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c")...) // recipient, seed 0x01
	want = append(want, unhex(t, "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394")...) // sender, seed 0x02
	want = append(want, 0, 0, 0, 0, 0, 0, 0x51, 0x2e)                                                    // day 20782
	want = append(want, unhex(t, "dacb13bdb452b14fdd1d838f5bc024e4dbf30a70b2f9f1d07bc5b12aa5f63dbb")...) // HashMessage("hello")
	want = append(want, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08)                                  // nonce

	got := challenge(c, 20782, 0x0102030405060708)
	if !bytes.Equal(got, want) {
		t.Fatalf("challenge =\n%x\nwant\n%x", got, want)
	}
	ch := challenge(c, 20782, 0)
	setNonce(ch, 0x0102030405060708)
	if !bytes.Equal(ch, want) {
		t.Fatalf("setNonce gives\n%x\nwant\n%x", ch, want)
	}
}

// TestWorkKnownAnswer pins the work function's output and the stamp Make
// finds for fixed inputs, so that an accidental change of the derivation or
// of the Argon2 parameters is caught. The values were computed by this code;
// the primitive and the layout are checked independently above.
func TestWorkKnownAnswer(t *testing.T) {
	c := testContext(t)
	for _, tc := range []struct {
		nonce uint64
		want  string
	}{
		{0, "07e2080dbc14f7e966eb9b6383ef2741476657a9aacc6467c10da718d0d4b2d7"},
		{1, "8c99edd947492da812ce6c9bbf096fc993ff226e79c7ba2115922ff58e45cf1e"},
	} {
		if got := hex.EncodeToString(evaluate(challenge(c, 20782, tc.nonce))); got != tc.want {
			t.Errorf("work(nonce %d) = %s, want %s", tc.nonce, got, tc.want)
		}
	}
	s := makeStamp(t, c, 20782, 8)
	if want := (Stamp{Version: 1, Difficulty: 8, Day: 20782, Nonce: 583}); s != want {
		t.Errorf("Make = %+v, want %+v", s, want)
	}
}

func TestLeadingZeroBits(t *testing.T) {
	tests := []struct {
		in   []byte
		want int
	}{
		{nil, 0},
		{[]byte{0x80}, 0},
		{[]byte{0x7f}, 1},
		{[]byte{0x01}, 7},
		{[]byte{0x00}, 8},
		{[]byte{0x00, 0x00}, 16},
		{[]byte{0x00, 0x10, 0x00}, 11},
		{[]byte{0x00, 0x00, 0x00, 0xff}, 24},
		{[]byte{0x00, 0x00, 0x00, 0x01}, 31},
	}
	for _, tc := range tests {
		if got := leadingZeroBits(tc.in); got != tc.want {
			t.Errorf("leadingZeroBits(%x) = %d, want %d", tc.in, got, tc.want)
		}
	}
}
