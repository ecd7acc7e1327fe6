package mailbox

import (
	"testing"
)

const benchItems, benchFrameSize = 1000, 200

func benchFrames() [][]byte {
	frames := make([][]byte, benchItems)
	for i := range frames {
		frames[i] = make([]byte, benchFrameSize)
	}
	return frames
}

// BenchmarkSealBatch seals one batch of 1,000 frames of 200 bytes.
func BenchmarkSealBatch(b *testing.B) {
	r := newRecipient()
	from := newPeerID()
	frames := benchFrames()
	b.SetBytes(benchItems * benchFrameSize)
	for b.Loop() {
		if _, err := SealBatch(r.priv.Public(), r.id, from, frames); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen opens such a batch with a new Opener: one X25519 operation.
func BenchmarkOpen(b *testing.B) {
	r := newRecipient()
	items := mustSeal(b, r, newPeerID(), benchFrames()...)
	b.SetBytes(benchItems * benchFrameSize)
	for b.Loop() {
		o := r.opener()
		for _, it := range items {
			if _, _, err := o.Open(it); err != nil {
				b.Fatal(err)
			}
		}
	}
}
