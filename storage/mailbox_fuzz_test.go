package storage

import (
	"bytes"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// FuzzDecodeMailboxRecord feeds arbitrary bytes to the mailbox record and key
// decoders: they must return ErrCorrupt, never panic, and what they accept
// must encode and decode to the same value.
func FuzzDecodeMailboxRecord(f *testing.F) {
	r := peerN(1)
	for _, m := range []proto.Message{
		&storepb.MailboxRegistration{Appointment: []byte("signed"), CapabilityKey: make([]byte, 32), StampDifficulty: 20,
			AppointedUnixNano: 5, ExpiresUnixNano: 6, Items: 2, StrangerItems: 1, Bytes: 10, NextSeq: 7},
		&storepb.MailboxRegistration{CapabilityKey: make([]byte, 32), NextSeq: 1},
		&storepb.MailboxRegistration{CapabilityKey: make([]byte, 32), StampDifficulty: 256, NextSeq: 1},
		&storepb.MailboxItem{Depositor: []byte("cap-0001"), Stranger: true, DepositedUnixNano: 5, Sealed: []byte("sealed")},
		&storepb.MailboxCounter{Items: 2, Bytes: 10},
	} {
		b, err := proto.Marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	k, _ := mailboxItemKey(r, 42)
	f.Add(k)
	f.Add([]byte{})
	mustCorrupt := func(t *testing.T, what string, err error) {
		if err != nil && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("%s: %v, want ErrCorrupt", what, err)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if reg, err := decodeMailboxRegistration(r, b); err == nil {
			again, err := proto.Marshal(mailboxRegistrationRecord(reg))
			if err != nil {
				t.Fatalf("accepted registration does not encode: %v", err)
			}
			reg2, err := decodeMailboxRegistration(r, again)
			if err != nil || !registrationEqual(reg, reg2) {
				t.Fatalf("registration round trip: %+v, %v; want %+v", reg2, err, reg)
			}
		} else {
			mustCorrupt(t, "registration", err)
		}
		if it, err := decodeMailboxItem(r, 42, b); err == nil {
			again, err := proto.Marshal(mailboxItemRecord(&it))
			if err != nil {
				t.Fatalf("accepted item does not encode: %v", err)
			}
			it2, err := decodeMailboxItem(r, 42, again)
			if err != nil || !itemEqual(it, it2) {
				t.Fatalf("item round trip: %+v, %v; want %+v", it2, err, it)
			}
		} else {
			mustCorrupt(t, "item", err)
		}
		if items, n, err := decodeMailboxCounter(b); err == nil {
			again, _ := proto.Marshal(&storepb.MailboxCounter{Items: uint64(items), Bytes: uint64(n)})
			items2, n2, err := decodeMailboxCounter(again)
			if err != nil || items2 != items || n2 != n {
				t.Fatalf("counter round trip: %d, %d, %v; want %d, %d", items2, n2, err, items, n)
			}
		} else {
			mustCorrupt(t, "counter", err)
		}
		if p, seq, err := decodeMailboxItemKey(b); err == nil {
			// The decoder skips the prefix without reading it.
			k, err := mailboxItemKey(p, seq)
			if err != nil || !bytes.Equal(k[len(prefixMailboxItem):], b[len(prefixMailboxItem):]) {
				t.Fatalf("item key %x re-encodes to %x, %v", b, k, err)
			}
		} else {
			mustCorrupt(t, "item key", err)
		}
	})
}
