package vectors

import (
	"context"
	"crypto/sha256"
	"math/bits"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/backchannel/backchannel/crypto/stamp"
)

type stampVector struct {
	About         string `json:"about"`
	Recipient     keyRef `json:"recipient"`
	Sender        keyRef `json:"sender"`
	Message       string `json:"message"`
	MessagePrefix string `json:"message_hash_prefix"`
	MessageHash   string `json:"message_hash"`
	Date          string `json:"date"`
	Day           uint32 `json:"day"`
	Difficulty    uint8  `json:"difficulty"`
	WorkDomain    string `json:"work_domain"`
	Argon2id      string `json:"argon2id"`
	Nonce         uint64 `json:"nonce"`
	Challenge     string `json:"challenge"`
	Output        string `json:"output"`
	LeadingZeros  int    `json:"leading_zero_bits"`
	Encoding      string `json:"encoding"`
	ValidDays     []int  `json:"valid_on_days"`
}

// stampDifficulty keeps the vector's search short (2^8 evaluations on
// average); the default is 11.
const stampDifficulty = 8

func buildStamp(t *testing.T) any {
	rk, sk := fixedIdentity(t, "bob").Public().Key, fixedIdentity(t, "alice").Public().Key
	msg := []byte("the encoded ratchet message of a stranger's first DM")
	mh := stamp.HashMessage(msg)
	want := sha256.Sum256(cat([]byte("backchannel/stamp/message/v1\x00"), msg))
	same(t, "message hash", mh[:], want[:])
	day := stamp.DayOf(t0)
	if int64(day) != t0.Unix()/86400 {
		t.Errorf("day %d", day)
	}
	c := stamp.Context{Recipient: rk, Sender: sk, MessageHash: mh}
	st, err := stamp.Make(context.Background(), c, day, stampDifficulty)
	must(t, err)
	must(t, st.Verify(c, stampDifficulty, t0))
	ch := cat(cstr("backchannel/stamp/v1"), rk[:], sk[:], u64(uint64(day)), mh[:], u64(st.Nonce))
	work := argon2.IDKey(ch, []byte("backchannel/stamp/v1"), 1, 256, 1, 32)
	zeros := leadingZeros(work)
	if zeros < stampDifficulty {
		t.Errorf("the documented work has %d leading zero bits, want %d", zeros, stampDifficulty)
	}
	enc, err := st.MarshalBinary()
	must(t, err)
	back, err := stamp.UnmarshalStamp(enc)
	must(t, err)
	if back != st {
		t.Errorf("stamp does not decode back")
	}
	var valid []int
	for d := -2; d <= 2; d++ {
		if st.Verify(c, stampDifficulty, t0.Add(time.Duration(d)*24*time.Hour)) == nil {
			valid = append(valid, d)
		}
	}
	return stampVector{
		About: "A proof-of-work stamp: the first nonce, counting from 0, whose Argon2id output has at least difficulty leading zero bits. " +
			"valid_on_days lists the days, relative to the stamp's, on which it verifies. See docs/PROTOCOL.md, Stamps.",
		Recipient: refOf(t, "bob"), Sender: refOf(t, "alice"), Message: hx(msg), MessagePrefix: hx([]byte("backchannel/stamp/message/v1\x00")),
		MessageHash: hx(mh[:]), Date: t0.Format(time.DateOnly), Day: uint32(day), Difficulty: stampDifficulty,
		WorkDomain: "backchannel/stamp/v1", Argon2id: "salt = work_domain, time 1, memory 256 KiB, 1 thread, 32-byte output",
		Nonce: st.Nonce, Challenge: hx(ch), Output: hx(work), LeadingZeros: zeros, Encoding: hx(enc), ValidDays: valid,
	}
}

func leadingZeros(b []byte) int {
	n := 0
	for _, c := range b {
		if c != 0 {
			return n + bits.LeadingZeros8(c)
		}
		n += 8
	}
	return n
}
