package contacts

import (
	"bytes"
	"testing"
)

// FuzzBlockedDrops: any stored value decodes without panicking, and a value
// that decodes re-encodes to the same bytes.
func FuzzBlockedDrops(f *testing.F) {
	f.Add(EncodeBlockedDrops(3, nil))
	f.Add(append(EncodeBlockedDrops(0, nil), make([]byte, 32)...))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		before, ids := DecodeBlockedDrops(b)
		if before == 0 && ids == nil {
			return // malformed, or empty: nothing held
		}
		if again := EncodeBlockedDrops(before, ids); !bytes.Equal(again, b) {
			t.Fatalf("%x decodes to %d, %d IDs, which encode to %x", b, before, len(ids), again)
		}
	})
}
