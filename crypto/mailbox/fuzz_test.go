package mailbox

import (
	"bytes"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
)

func FuzzUnmarshalAppointment(f *testing.F) {
	sk := keys.GeneratePrivateKey()
	for _, id := range []peer.ID{newPeerID(), identityPeerID(f, 2), identityPeerID(f, maxPeerIDSize)} {
		f.Add(mustMarshal(f, mustAppointment(f, sk, id)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		a, err := UnmarshalAppointment(data)
		if err != nil {
			return
		}
		_ = a.Verify(now) // must not panic
		enc, err := a.MarshalBinary()
		if err != nil {
			t.Fatalf("decoded appointment does not encode: %v", err)
		}
		if !bytes.Equal(enc, data) {
			t.Fatalf("re-encoding differs:\n%x\n%x", enc, data)
		}
	})
}

func FuzzOpen(f *testing.F) {
	// The recipient is fixed: every fuzzing worker runs this setup, and the
	// seeds must open in all of them.
	priv, err := keys.DHPrivateFromBytes(bytes.Repeat([]byte{7}, keys.DHKeySize))
	if err != nil {
		f.Fatal(err)
	}
	r := recipient{priv: priv, id: identityPeerID(f, 38)}
	from := newPeerID()
	for _, it := range mustSeal(f, r, from, nil, []byte("hello"), make([]byte, 300)) {
		f.Add(it)
	}
	f.Add(make([]byte, minSealed))
	f.Fuzz(func(t *testing.T, data []byte) {
		o := r.opener()
		gotFrom, frame, err := o.Open(data)
		if err != nil {
			return
		}
		if checkPeerID("sender", gotFrom) != nil || len(frame) > MaxFrame {
			t.Fatalf("opened an item with sender %q and a %d-byte frame", gotFrom, len(frame))
		}
	})
}
