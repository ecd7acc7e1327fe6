package mailbox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/internal/aead"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/ratchet"
)

// recipient is a recipient's X25519 identity key and peer ID.
type recipient struct {
	priv keys.DHPrivate
	id   peer.ID
}

func newRecipient() recipient { return recipient{keys.GenerateDH(), newPeerID()} }

func (r recipient) opener() *Opener { return NewOpener(r.priv, r.id) }

func mustSeal(t testing.TB, r recipient, from peer.ID, frames ...[]byte) [][]byte {
	t.Helper()
	items, err := SealBatch(r.priv.Public(), r.id, from, frames)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// sealPlain seals an arbitrary plaintext as item index of a batch with
// ephemeral key eph, as SealBatch would: for items SealBatch never makes.
func sealPlain(t testing.TB, r recipient, eph keys.DHPrivate, index uint32, plain []byte) []byte {
	t.Helper()
	shared, err := eph.DH(r.priv.Public())
	if err != nil {
		t.Fatal(err)
	}
	epk := eph.Public()
	header := append([]byte{sealVersion}, epk[:]...)
	header = binary.BigEndian.AppendUint32(header, index)
	ct := aead.Seal(itemKey(batchKey(shared, epk, r.priv.Public()), index), labelItem, plain, itemAD(header, r.id))
	return append(header, ct...)
}

// plainOf builds a plaintext: from, a frame length field, the frame, then
// pad bytes.
func plainOf(from peer.ID, frameLen uint32, frame, pad []byte) []byte {
	p := append([]byte{byte(len(from))}, from...)
	p = binary.BigEndian.AppendUint32(p, frameLen)
	return append(append(p, frame...), pad...)
}

func TestMaxFrameHoldsDMFrame(t *testing.T) {
	if dm := ratchet.MaxMessageSize + 1024; MaxFrame < dm {
		t.Errorf("MaxFrame = %d, below a DM frame's limit %d", MaxFrame, dm)
	}
	if want := sealedHeader + paddedLen(1+maxPeerIDSize+4+MaxFrame) + aead.Overhead; MaxSealed != want {
		t.Errorf("MaxSealed = %d, want %d", MaxSealed, want)
	}
}

func TestSealOpenRoundTrip(t *testing.T) {
	r := newRecipient()
	from := newPeerID()
	longFrom := identityPeerID(t, maxPeerIDSize)
	tests := []struct {
		name string
		from peer.ID
		size int
	}{
		{"empty", from, 0},
		{"1 byte", from, 1},
		{"255 bytes", from, 255},
		{"256 bytes", from, 256},
		{"fills one unit", from, PadUnit - 1 - len(from) - 4},
		{"one over a unit", from, PadUnit - 1 - len(from) - 4 + 1},
		{"MaxFrame", from, MaxFrame},
		{"MaxFrame, longest sender", longFrom, MaxFrame},
	}
	for _, tc := range tests {
		frame := bytes.Repeat([]byte{0xa5}, tc.size)
		items := mustSeal(t, r, tc.from, frame, frame[:tc.size/2])
		for i, item := range items {
			want := frame[:tc.size>>i]
			size := len(item) - sealedHeader - aead.Overhead
			if size <= 0 || size%PadUnit != 0 || size != paddedLen(1+len(tc.from)+4+len(want)) || len(item) > MaxSealed {
				t.Errorf("%s: item %d is %d bytes", tc.name, i, len(item))
			}
			gotFrom, got, err := r.opener().Open(item)
			if err != nil || gotFrom != tc.from || !bytes.Equal(got, want) {
				t.Errorf("%s: item %d: Open = %s, %d bytes, %v", tc.name, i, gotFrom, len(got), err)
			}
		}
	}
	items := mustSeal(t, r, longFrom, make([]byte, MaxFrame))
	if len(items[0]) != MaxSealed {
		t.Errorf("largest item is %d bytes, MaxSealed %d", len(items[0]), MaxSealed)
	}
}

func TestSealBatchSizesSayLittle(t *testing.T) {
	r := newRecipient()
	from := newPeerID()
	var frames [][]byte
	for n := range 200 {
		frames = append(frames, make([]byte, n))
	}
	for i, item := range mustSeal(t, r, from, frames...) {
		if len(item) != sealedHeader+PadUnit+aead.Overhead {
			t.Fatalf("item %d of a %d-byte frame is %d bytes, want one unit", i, len(frames[i]), len(item))
		}
	}
}

func TestSealBatchRefuses(t *testing.T) {
	r := newRecipient()
	to := r.priv.Public()
	from := newPeerID()
	lowOrder := keys.DHPublic{1} // u = 1: its X25519 output is all zeroes
	tests := []struct {
		name   string
		to     keys.DHPublic
		toID   peer.ID
		from   peer.ID
		frames [][]byte
		want   error
	}{
		{"frame over MaxFrame", to, r.id, from, [][]byte{nil, make([]byte, MaxFrame+1)}, ErrTooLarge},
		{"zero key", keys.DHPublic{}, r.id, from, [][]byte{nil}, ErrInvalid},
		{"low-order key", lowOrder, r.id, from, [][]byte{nil}, ErrInvalid},
		{"empty toID", to, "", from, [][]byte{nil}, ErrInvalid},
		{"toID not a peer ID", to, "junk", from, [][]byte{nil}, ErrInvalid},
		{"empty from", to, r.id, "", [][]byte{nil}, ErrInvalid},
		{"from too long", to, r.id, identityPeerID(t, maxPeerIDSize+1), [][]byte{nil}, ErrInvalid},
	}
	for _, tc := range tests {
		if items, err := SealBatch(tc.to, tc.toID, tc.from, tc.frames); !errors.Is(err, tc.want) || items != nil {
			t.Errorf("%s: SealBatch = %d items, %v; want %v", tc.name, len(items), err, tc.want)
		}
	}
	if items, err := SealBatch(to, r.id, from, nil); err != nil || len(items) != 0 {
		t.Errorf("empty batch: %d items, %v", len(items), err)
	}
}

func TestOpenFails(t *testing.T) {
	r := newRecipient()
	from := newPeerID()
	items := mustSeal(t, r, from, []byte("hello"), []byte("world"))
	item := items[0]
	eph := keys.GenerateDH()
	wrongIndex := append([]byte(nil), item...)
	binary.BigEndian.PutUint32(wrongIndex[1+keys.DHKeySize:], 1)
	swapped := append(append([]byte(nil), items[1][:sealedHeader]...), item[sealedHeader:]...)
	lowOrder := append([]byte(nil), item...)
	copy(lowOrder[1:], []byte{1})
	clear(lowOrder[2 : 1+keys.DHKeySize])
	zeroEPK := append([]byte(nil), item...)
	clear(zeroEPK[1 : 1+keys.DHKeySize])
	pad := func(n int) []byte { return make([]byte, n) }
	fill := PadUnit - 1 - len(from) - 4 - 5 // padding after "hello"
	badPad := pad(fill)
	badPad[fill-1] = 1
	tests := []struct {
		name   string
		opener *Opener
		item   []byte
	}{
		{"wrong recipient key", NewOpener(keys.GenerateDH(), r.id), item},
		{"wrong recipient ID", NewOpener(r.priv, newPeerID()), item},
		{"zero private key", NewOpener(keys.DHPrivate{}, r.id), item},
		{"index changed", r.opener(), wrongIndex},
		{"headers swapped", r.opener(), swapped},
		{"low-order ephemeral key", r.opener(), lowOrder},
		{"zero ephemeral key", r.opener(), zeroEPK},
		{"empty", r.opener(), nil},
		{"header only", r.opener(), item[:sealedHeader]},
		{"truncated", r.opener(), item[:len(item)-1]},
		{"one unit short", r.opener(), item[:len(item)-PadUnit]},
		{"trailing byte", r.opener(), append(append([]byte(nil), item...), 0)},
		{"trailing unit", r.opener(), append(append([]byte(nil), item...), pad(PadUnit)...)},
		{"over MaxSealed", r.opener(), pad(MaxSealed + PadUnit)},
		{"non-zero padding", r.opener(), sealPlain(t, r, eph, 0, plainOf(from, 5, []byte("hello"), badPad))},
		{"excess padding", r.opener(), sealPlain(t, r, eph, 0, plainOf(from, 5, []byte("hello"), pad(fill+PadUnit)))},
		{"frame length past the end", r.opener(), sealPlain(t, r, eph, 0, plainOf(from, 5+uint32(fill)+1, []byte("hello"), pad(fill)))},
		{"frame over MaxFrame", r.opener(), sealPlain(t, r, eph, 0, plainOf(from, MaxFrame+1, make([]byte, MaxFrame+1), pad(paddedLen(1+len(from)+4+MaxFrame+1)-(1+len(from)+4+MaxFrame+1))))},
		{"sender length past the end", r.opener(), sealPlain(t, r, eph, 0, append([]byte{255}, pad(PadUnit-1)...))},
		{"empty sender", r.opener(), sealPlain(t, r, eph, 0, plainOf("", 0, nil, pad(PadUnit-5)))},
		{"sender not a peer ID", r.opener(), sealPlain(t, r, eph, 0, plainOf("junk", 0, nil, pad(PadUnit-9)))},
		{"plaintext not a whole unit", r.opener(), sealPlain(t, r, eph, 0, plainOf(from, 0, nil, pad(fill)))},
	}
	for _, tc := range tests {
		if f, fr, err := tc.opener.Open(tc.item); !errors.Is(err, ErrOpen) || f != "" || fr != nil {
			t.Errorf("%s: Open = %q, %q, %v; want ErrOpen", tc.name, f, fr, err)
		}
	}
	// Items built by sealPlain open when well formed, so the failures above
	// are the ones named.
	good := sealPlain(t, r, eph, 7, plainOf(from, 5, []byte("hello"), pad(fill)))
	if f, fr, err := r.opener().Open(good); err != nil || f != from || string(fr) != "hello" {
		t.Fatalf("hand-sealed item: Open = %q, %q, %v", f, fr, err)
	}
	for name, it := range map[string][]byte{"SealBatch's": item, "hand-sealed": good} {
		for i := range it {
			if _, _, err := r.opener().Open(flip(it, i)); !errors.Is(err, ErrOpen) {
				t.Errorf("%s item, byte %d flipped: err = %v, want ErrOpen", name, i, err)
			}
		}
	}
}

func TestOpenerCachesAcrossBatches(t *testing.T) {
	r := newRecipient()
	alice, bob := newPeerID(), newPeerID()
	frames := [][]byte{[]byte("a0"), []byte("a1"), []byte("a2")}
	a := mustSeal(t, r, alice, frames...)
	b := mustSeal(t, r, bob, frames...)
	if bytes.Equal(a[0][1:1+keys.DHKeySize], b[0][1:1+keys.DHKeySize]) {
		t.Fatal("two batches share an ephemeral key")
	}
	o := r.opener()
	// Batch a in reverse, batch b, then a again: each switch refills the
	// cache, and items open in any order.
	order := []struct {
		items [][]byte
		i     int
		from  peer.ID
	}{{a, 2, alice}, {a, 0, alice}, {a, 1, alice}, {b, 0, bob}, {b, 2, bob}, {a, 1, alice}, {b, 1, bob}}
	for _, st := range order {
		f, fr, err := o.Open(st.items[st.i])
		if err != nil || f != st.from || !bytes.Equal(fr, frames[st.i]) {
			t.Fatalf("item %d from %s: Open = %s, %q, %v", st.i, st.from, f, fr, err)
		}
		if !o.haveLast || !bytes.Equal(o.lastEPK[:], st.items[st.i][1:1+keys.DHKeySize]) {
			t.Fatalf("cache holds another ephemeral key")
		}
	}
	// A forged item under batch a's key fails and leaves the cache usable.
	if _, _, err := o.Open(flip(a[0], len(a[0])-1)); !errors.Is(err, ErrOpen) {
		t.Fatalf("forged item: err = %v", err)
	}
	if _, _, err := o.Open(a[0]); err != nil {
		t.Fatalf("after a forged item: %v", err)
	}
	// A cached batch key does not open another recipient's item with the
	// same ephemeral key: the recipient's ID is in the associated data.
	other := NewOpener(r.priv, newPeerID())
	if _, _, err := other.Open(a[0]); !errors.Is(err, ErrOpen) {
		t.Fatalf("other recipient ID: err = %v", err)
	}
}
