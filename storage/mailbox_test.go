package storage

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// errRollback makes a test's Update roll back.
var errRollback = errors.New("roll back")

// capKey returns a 32-byte capability key filled with b.
func capKey(b byte) []byte { return bytes.Repeat([]byte{b}, 32) }

// testRegistration returns a registration of r.
func testRegistration(r peer.ID) MailboxRegistration {
	return MailboxRegistration{
		Recipient: r, Appointment: []byte("signed appointment of " + string(r)), CapabilityKey: capKey(7),
		StampDifficulty: 20, Appointed: at(1), Expires: at(1000),
	}
}

// testItem returns an item of r from depositor, deposited at at(n), sealed
// with size bytes.
func testItem(r peer.ID, depositor string, stranger bool, n, size int) *MailboxItem {
	return &MailboxItem{Recipient: r, Depositor: []byte(depositor), Stranger: stranger, Deposited: at(n),
		Sealed: bytes.Repeat([]byte{byte(n)}, size)}
}

func registrationEqual(a, b MailboxRegistration) bool {
	return a.Recipient == b.Recipient && bytes.Equal(a.Appointment, b.Appointment) &&
		bytes.Equal(a.CapabilityKey, b.CapabilityKey) && a.StampDifficulty == b.StampDifficulty &&
		a.Appointed.Equal(b.Appointed) && a.Expires.Equal(b.Expires) && a.Items == b.Items &&
		a.StrangerItems == b.StrangerItems && a.Bytes == b.Bytes && a.NextSeq == b.NextSeq
}

func itemEqual(a, b MailboxItem) bool {
	return a.Recipient == b.Recipient && a.Seq == b.Seq && bytes.Equal(a.Depositor, b.Depositor) &&
		a.Stranger == b.Stranger && a.Deposited.Equal(b.Deposited) && bytes.Equal(a.Sealed, b.Sealed)
}

// itemSeqs returns the seqs of its.
func itemSeqs(its []MailboxItem) []uint64 {
	var ss []uint64
	for _, it := range its {
		ss = append(ss, it.Seq)
	}
	return ss
}

func TestMailboxRegistration(t *testing.T) {
	s := openMem(t)
	a, b := peerN(1), peerN(2)
	view(t, s, func(tx *Txn) error {
		if _, err := tx.MailboxRegistration(a); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing registration: %v, want ErrNotFound", err)
		}
		if regs, err := tx.MailboxRegistrations(); err != nil || len(regs) != 0 {
			t.Errorf("MailboxRegistrations of an empty store = %v, %v", regs, err)
		}
		return nil
	})

	// Counters and NextSeq given to a new registration are ignored.
	ra := testRegistration(a)
	ra.Items, ra.StrangerItems, ra.Bytes, ra.NextSeq = 5, 4, 300, 99
	update(t, s, func(tx *Txn) error {
		if err := tx.PutMailboxRegistration(ra); err != nil {
			return err
		}
		return tx.PutMailboxRegistration(testRegistration(b))
	})
	wantA := testRegistration(a)
	wantA.NextSeq = 1
	view(t, s, func(tx *Txn) error {
		got, err := tx.MailboxRegistration(a)
		if err != nil || !registrationEqual(got, wantA) {
			t.Errorf("MailboxRegistration = %+v, %v; want %+v", got, err, wantA)
		}
		return nil
	})

	// Updating keeps the counters and NextSeq.
	update(t, s, func(tx *Txn) error {
		for _, it := range []*MailboxItem{testItem(a, "cap-0001", false, 2, 10), testItem(a, "stranger", true, 3, 5)} {
			if err := tx.PutMailboxItem(it); err != nil {
				return err
			}
		}
		return nil
	})
	upd := MailboxRegistration{Recipient: a, Appointment: []byte("renewed"), CapabilityKey: capKey(9),
		StampDifficulty: 0, Appointed: at(50), Expires: at(5000), Items: 100, StrangerItems: 100, Bytes: 1, NextSeq: 7}
	update(t, s, func(tx *Txn) error { return tx.PutMailboxRegistration(upd) })
	wantA = upd
	wantA.Items, wantA.StrangerItems, wantA.Bytes, wantA.NextSeq = 2, 1, 15, 3
	wantB := testRegistration(b)
	wantB.NextSeq = 1
	view(t, s, func(tx *Txn) error {
		got, err := tx.MailboxRegistration(a)
		if err != nil || !registrationEqual(got, wantA) {
			t.Errorf("updated registration = %+v, %v; want %+v", got, err, wantA)
		}
		regs, err := tx.MailboxRegistrations()
		if err != nil {
			return err
		}
		want := []MailboxRegistration{wantA, wantB} // key order: same length, a < b
		if len(regs) != len(want) || !registrationEqual(regs[0], want[0]) || !registrationEqual(regs[1], want[1]) {
			t.Errorf("MailboxRegistrations = %+v, want %+v", regs, want)
		}
		return nil
	})
}

func TestMailboxInvalidArguments(t *testing.T) {
	s := openMem(t)
	r := peerN(1)
	update(t, s, func(tx *Txn) error { return tx.PutMailboxRegistration(testRegistration(r)) })
	long := strings.Repeat("d", 65)
	regWith := func(f func(*MailboxRegistration)) MailboxRegistration {
		reg := testRegistration(r)
		f(&reg)
		return reg
	}
	tests := []struct {
		name string
		fn   func(*Txn) error
		want error
	}{
		{"registration of zero recipient", func(tx *Txn) error {
			return tx.PutMailboxRegistration(regWith(func(r *MailboxRegistration) { r.Recipient = "" }))
		}, ErrInvalid},
		{"no capability key", func(tx *Txn) error {
			return tx.PutMailboxRegistration(regWith(func(r *MailboxRegistration) { r.CapabilityKey = nil }))
		}, ErrInvalid},
		{"short capability key", func(tx *Txn) error {
			return tx.PutMailboxRegistration(regWith(func(r *MailboxRegistration) { r.CapabilityKey = make([]byte, 31) }))
		}, ErrInvalid},
		{"long capability key", func(tx *Txn) error {
			return tx.PutMailboxRegistration(regWith(func(r *MailboxRegistration) { r.CapabilityKey = make([]byte, 33) }))
		}, ErrInvalid},
		{"get zero recipient", func(tx *Txn) error { _, err := tx.MailboxRegistration(""); return err }, ErrInvalid},
		{"nil item", func(tx *Txn) error { return tx.PutMailboxItem(nil) }, ErrInvalid},
		{"item of zero recipient", func(tx *Txn) error { return tx.PutMailboxItem(testItem("", "cap", false, 1, 1)) }, ErrInvalid},
		{"empty depositor", func(tx *Txn) error { return tx.PutMailboxItem(testItem(r, "", false, 1, 1)) }, ErrInvalid},
		{"65-byte depositor", func(tx *Txn) error { return tx.PutMailboxItem(testItem(r, long, false, 1, 1)) }, ErrInvalid},
		{"empty sealed", func(tx *Txn) error { return tx.PutMailboxItem(testItem(r, "cap", false, 1, 0)) }, ErrInvalid},
		{"deposit time before the epoch", func(tx *Txn) error {
			it := testItem(r, "cap", false, 1, 1)
			it.Deposited = time.Unix(-1, 0)
			return tx.PutMailboxItem(it)
		}, ErrInvalid},
		{"no deposit time", func(tx *Txn) error {
			it := testItem(r, "cap", false, 1, 1)
			it.Deposited = time.Time{}
			return tx.PutMailboxItem(it)
		}, ErrInvalid},
		{"item without registration", func(tx *Txn) error { return tx.PutMailboxItem(testItem(peerN(2), "cap", false, 1, 1)) }, ErrNotFound},
		{"items of zero recipient", func(tx *Txn) error { _, err := tx.MailboxItems("", 0, 1, 1); return err }, ErrInvalid},
		{"items limit 0", func(tx *Txn) error { _, err := tx.MailboxItems(r, 0, 0, 1); return err }, ErrInvalid},
		{"delete item of zero recipient", func(tx *Txn) error { _, err := tx.DeleteMailboxItem("", 1); return err }, ErrInvalid},
		{"depositor of zero recipient", func(tx *Txn) error { _, _, err := tx.MailboxDepositor("", []byte("cap")); return err }, ErrInvalid},
		{"empty depositor counter", func(tx *Txn) error { _, _, err := tx.MailboxDepositor(r, nil); return err }, ErrInvalid},
		{"long depositor counter", func(tx *Txn) error { _, _, err := tx.MailboxDepositor(r, []byte(long)); return err }, ErrInvalid},
		{"items before limit 0", func(tx *Txn) error { _, err := tx.MailboxItemsBefore(at(1), 0); return err }, ErrInvalid},
		{"delete zero recipient", func(tx *Txn) error { return tx.DeleteMailbox("") }, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if err := s.Update(tc.fn); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
	// A 64-byte depositor is fine, and nothing above changed the counters.
	update(t, s, func(tx *Txn) error { return tx.PutMailboxItem(testItem(r, long[:64], false, 1, 3)) })
	view(t, s, func(tx *Txn) error {
		reg, err := tx.MailboxRegistration(r)
		if err != nil || reg.Items != 1 || reg.Bytes != 3 || reg.StrangerItems != 0 || reg.NextSeq != 2 {
			t.Errorf("registration = %+v, %v; want one item of 3 bytes", reg, err)
		}
		return nil
	})
}

func TestMailboxItemsPaging(t *testing.T) {
	s := openMem(t)
	r, other := peerN(1), peerN(2)
	var want []MailboxItem
	update(t, s, func(tx *Txn) error {
		for _, p := range []peer.ID{r, other} {
			if err := tx.PutMailboxRegistration(testRegistration(p)); err != nil {
				return err
			}
		}
		// Sizes 10, 20, ..., 60; the other recipient's items interleave.
		for n := 1; n <= 6; n++ {
			it := testItem(r, fmt.Sprintf("cap-%04d", n%2), n == 4, n, 10*n)
			if err := tx.PutMailboxItem(it); err != nil {
				return err
			}
			if it.Seq != uint64(n) {
				t.Errorf("item %d got seq %d", n, it.Seq)
			}
			want = append(want, *it)
			if err := tx.PutMailboxItem(testItem(other, "cap-0009", false, n, 1)); err != nil {
				return err
			}
		}
		return nil
	})
	tests := []struct {
		name               string
		after              uint64
		maxItems, maxBytes int
		want               []uint64
	}{
		{"all", 0, 100, 1 << 20, []uint64{1, 2, 3, 4, 5, 6}},
		{"item limit", 0, 2, 1 << 20, []uint64{1, 2}},
		{"after", 2, 100, 1 << 20, []uint64{3, 4, 5, 6}},
		{"after and item limit", 3, 2, 1 << 20, []uint64{4, 5}},
		{"byte limit exact", 0, 100, 60, []uint64{1, 2, 3}},
		{"byte limit just below", 0, 100, 59, []uint64{1, 2}},
		{"at least one", 4, 100, 1, []uint64{5}},
		{"at least one with no byte budget", 0, 100, 0, []uint64{1}},
		{"negative byte budget", 5, 100, -1, []uint64{6}},
		{"after the last", 6, 100, 1 << 20, nil},
		{"far after", 1 << 40, 100, 1 << 20, nil},
		{"after max seq", math.MaxUint64, 100, 1 << 20, nil},
	}
	view(t, s, func(tx *Txn) error {
		for _, tc := range tests {
			got, err := tx.MailboxItems(r, tc.after, tc.maxItems, tc.maxBytes)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			if !slices.Equal(itemSeqs(got), tc.want) {
				t.Errorf("%s: seqs %v, want %v", tc.name, itemSeqs(got), tc.want)
				continue
			}
			for _, it := range got {
				if !itemEqual(it, want[it.Seq-1]) {
					t.Errorf("%s: item %+v, want %+v", tc.name, it, want[it.Seq-1])
				}
			}
		}
		got, err := tx.MailboxItems(peerN(3), 0, 10, 10)
		if err != nil || len(got) != 0 {
			t.Errorf("items of an unregistered recipient = %v, %v", got, err)
		}
		return nil
	})
}

func TestDeleteMailboxItem(t *testing.T) {
	s := openMem(t)
	r := peerN(1)
	update(t, s, func(tx *Txn) error {
		if err := tx.PutMailboxRegistration(testRegistration(r)); err != nil {
			return err
		}
		for _, it := range []*MailboxItem{
			testItem(r, "cap-a", false, 1, 10),
			testItem(r, "cap-a", false, 2, 20),
			testItem(r, "stranger-b", true, 3, 30),
		} {
			if err := tx.PutMailboxItem(it); err != nil {
				return err
			}
		}
		return nil
	})
	steps := []struct {
		seq                uint64
		deleted            bool
		items, strangers   int
		bytes              int64
		aItems, bItems     int
		aBytes, bBytes     int64
		depositorKeysAfter int
	}{
		{seq: 9, deleted: false, items: 3, strangers: 1, bytes: 60, aItems: 2, aBytes: 30, bItems: 1, bBytes: 30, depositorKeysAfter: 2},
		{seq: 3, deleted: true, items: 2, strangers: 0, bytes: 30, aItems: 2, aBytes: 30, depositorKeysAfter: 1},
		{seq: 3, deleted: false, items: 2, strangers: 0, bytes: 30, aItems: 2, aBytes: 30, depositorKeysAfter: 1},
		{seq: 1, deleted: true, items: 1, bytes: 20, aItems: 1, aBytes: 20, depositorKeysAfter: 1},
		{seq: 2, deleted: true, depositorKeysAfter: 0},
	}
	for i, st := range steps {
		update(t, s, func(tx *Txn) error {
			ok, err := tx.DeleteMailboxItem(r, st.seq)
			if err != nil || ok != st.deleted {
				t.Errorf("step %d: DeleteMailboxItem(%d) = %v, %v; want %v", i, st.seq, ok, err, st.deleted)
			}
			return nil
		})
		view(t, s, func(tx *Txn) error {
			reg, err := tx.MailboxRegistration(r)
			if err != nil || reg.Items != st.items || reg.StrangerItems != st.strangers || reg.Bytes != st.bytes || reg.NextSeq != 4 {
				t.Errorf("step %d: registration %+v, %v", i, reg, err)
			}
			for _, d := range []struct {
				name  string
				items int
				bytes int64
			}{{"cap-a", st.aItems, st.aBytes}, {"stranger-b", st.bItems, st.bBytes}} {
				n, b, err := tx.MailboxDepositor(r, []byte(d.name))
				if err != nil || n != d.items || b != d.bytes {
					t.Errorf("step %d: depositor %s = %d, %d, %v; want %d, %d", i, d.name, n, b, err, d.items, d.bytes)
				}
			}
			return nil
		})
		if n := countPrefix(t, s, prefixMailboxDep); n != st.depositorKeysAfter {
			t.Errorf("step %d: %d depositor records, want %d", i, n, st.depositorKeysAfter)
		}
	}
	// Seqs are not reused after the queue empties.
	update(t, s, func(tx *Txn) error {
		it := testItem(r, "cap-a", false, 4, 1)
		if err := tx.PutMailboxItem(it); err != nil {
			return err
		}
		if it.Seq != 4 {
			t.Errorf("seq after emptying = %d, want 4", it.Seq)
		}
		return nil
	})
}

// countPrefix counts the keys starting with prefix.
func countPrefix(t *testing.T, s *Store, prefix string) int {
	t.Helper()
	n := 0
	for _, k := range allKeys(t, s) {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

func TestDeleteMailbox(t *testing.T) {
	s := openMem(t)
	a, b := peerN(1), peerN(2)
	// Other records whose prefixes start like the mailbox ones.
	update(t, s, func(tx *Txn) error {
		if err := tx.PutMessage(testMessage(a, 1, Outbound)); err != nil {
			return err
		}
		return tx.PutKnownPeer(KnownPeer{Peer: a, LastSeen: at(1)})
	})
	before := allKeys(t, s)
	update(t, s, func(tx *Txn) error {
		for _, p := range []peer.ID{a, b} {
			if err := tx.PutMailboxRegistration(testRegistration(p)); err != nil {
				return err
			}
			for n := 1; n <= 3; n++ {
				if err := tx.PutMailboxItem(testItem(p, fmt.Sprint("cap-", n), n == 3, n, n)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	update(t, s, func(tx *Txn) error { return tx.DeleteMailbox(a) })
	view(t, s, func(tx *Txn) error {
		if _, err := tx.MailboxRegistration(a); !errors.Is(err, ErrNotFound) {
			t.Errorf("deleted registration: %v, want ErrNotFound", err)
		}
		if its, err := tx.MailboxItems(a, 0, 10, 100); err != nil || len(its) != 0 {
			t.Errorf("deleted mailbox's items = %v, %v", its, err)
		}
		if n, _, err := tx.MailboxDepositor(a, []byte("cap-1")); err != nil || n != 0 {
			t.Errorf("deleted mailbox's depositor = %d, %v", n, err)
		}
		reg, err := tx.MailboxRegistration(b)
		if err != nil || reg.Items != 3 || reg.Bytes != 6 || reg.StrangerItems != 1 {
			t.Errorf("other mailbox = %+v, %v", reg, err)
		}
		if its, err := tx.MailboxItems(b, 0, 10, 100); err != nil || len(its) != 3 {
			t.Errorf("other mailbox's items = %v, %v", its, err)
		}
		if m, err := tx.Message(a, msgID(1)); err != nil || m.ID != msgID(1) {
			t.Errorf("message of a: %v", err)
		}
		return nil
	})
	update(t, s, func(tx *Txn) error {
		if err := tx.DeleteMailbox(a); err != nil { // again: not an error
			return err
		}
		return tx.DeleteMailbox(b)
	})
	if after := allKeys(t, s); !slices.Equal(after, before) {
		t.Errorf("keys after deleting both mailboxes = %q, want %q", after, before)
	}
	// A new registration starts over.
	update(t, s, func(tx *Txn) error {
		if err := tx.PutMailboxRegistration(testRegistration(a)); err != nil {
			return err
		}
		it := testItem(a, "cap", false, 1, 1)
		if err := tx.PutMailboxItem(it); err != nil {
			return err
		}
		if it.Seq != 1 {
			t.Errorf("seq after re-registering = %d, want 1", it.Seq)
		}
		return nil
	})
}

func TestMailboxItemsBefore(t *testing.T) {
	s := openMem(t)
	a, b := peerN(1), peerN(2)
	update(t, s, func(tx *Txn) error {
		for _, p := range []peer.ID{a, b} {
			if err := tx.PutMailboxRegistration(testRegistration(p)); err != nil {
				return err
			}
		}
		// a: deposited at 5, 1, 9; b: at 3, 7.
		for _, x := range []struct {
			p peer.ID
			n int
		}{{a, 5}, {b, 3}, {a, 1}, {b, 7}, {a, 9}} {
			if err := tx.PutMailboxItem(testItem(x.p, "cap", false, x.n, x.n)); err != nil {
				return err
			}
		}
		return nil
	})
	type ref struct {
		p   peer.ID
		seq uint64
	}
	tests := []struct {
		name string
		t0   int
		max  int
		want []ref
	}{
		{"none", 1, 10, nil},
		{"strictly before", 3, 10, []ref{{a, 2}}},
		{"several recipients", 6, 10, []ref{{a, 1}, {a, 2}, {b, 1}}},
		{"all", 100, 10, []ref{{a, 1}, {a, 2}, {a, 3}, {b, 1}, {b, 2}}},
		{"max", 100, 2, []ref{{a, 1}, {a, 2}}},
		{"max skips newer", 8, 3, []ref{{a, 1}, {a, 2}, {b, 1}}},
	}
	view(t, s, func(tx *Txn) error {
		for _, tc := range tests {
			got, err := tx.MailboxItemsBefore(at(tc.t0), tc.max)
			if err != nil {
				t.Errorf("%s: %v", tc.name, err)
				continue
			}
			var refs []ref
			for _, it := range got {
				refs = append(refs, ref{it.Recipient, it.Seq})
				if !it.Deposited.Before(at(tc.t0)) || len(it.Sealed) == 0 {
					t.Errorf("%s: item %+v", tc.name, it)
				}
			}
			if !slices.Equal(refs, tc.want) {
				t.Errorf("%s: got %v, want %v", tc.name, refs, tc.want)
			}
		}
		return nil
	})
}

// mailboxModel is what the store should hold, kept by the test.
type mailboxModel struct {
	regs  map[peer.ID]*MailboxRegistration
	items map[peer.ID][]MailboxItem // in seq order
}

// check compares the store to the model.
func (m *mailboxModel) check(t *testing.T, s *Store, step int, depositors []string) {
	t.Helper()
	wantDeps := 0
	view(t, s, func(tx *Txn) error {
		regs, err := tx.MailboxRegistrations()
		if err != nil {
			return err
		}
		if len(regs) != len(m.regs) {
			t.Fatalf("step %d: %d registrations, model has %d", step, len(regs), len(m.regs))
		}
		for _, reg := range regs {
			want := m.regs[reg.Recipient]
			if want == nil || !registrationEqual(reg, *want) {
				t.Fatalf("step %d: registration %+v, model %+v", step, reg, want)
			}
			items, err := tx.MailboxItems(reg.Recipient, 0, math.MaxInt, math.MaxInt)
			if err != nil {
				return err
			}
			wantItems := m.items[reg.Recipient]
			if !slices.EqualFunc(items, wantItems, itemEqual) {
				t.Fatalf("step %d: items of %s %v, model %v", step, reg.Recipient, itemSeqs(items), itemSeqs(wantItems))
			}
			for _, d := range depositors {
				var n int
				var b int64
				for _, it := range wantItems {
					if string(it.Depositor) == d {
						n++
						b += int64(len(it.Sealed))
					}
				}
				if n > 0 {
					wantDeps++
				}
				gn, gb, err := tx.MailboxDepositor(reg.Recipient, []byte(d))
				if err != nil || gn != n || gb != b {
					t.Fatalf("step %d: depositor %s of %s = %d, %d, %v; model %d, %d", step, d, reg.Recipient, gn, gb, err, n, b)
				}
			}
		}
		return nil
	})
	if n := countPrefix(t, s, prefixMailboxDep); n != wantDeps {
		t.Fatalf("step %d: %d depositor records, model has %d depositors with items", step, n, wantDeps)
	}
	if n, want := countPrefix(t, s, prefixMailboxItem), func() int {
		n := 0
		for _, its := range m.items {
			n += len(its)
		}
		return n
	}(); n != want {
		t.Fatalf("step %d: %d item records, model has %d", step, n, want)
	}
}

// TestMailboxCountersMatchModel does random puts and deletes, several per
// transaction, and compares the store's counters to a model after each.
func TestMailboxCountersMatchModel(t *testing.T) {
	s := openMem(t)
	rng := rand.New(rand.NewPCG(1, 2))
	recipients := []peer.ID{peerN(1), peerN(2), peerN(3)}
	depositors := []string{"cap-0001", "cap-0002", "a-stranger-peer-id", "d"}
	m := &mailboxModel{regs: map[peer.ID]*MailboxRegistration{}, items: map[peer.ID][]MailboxItem{}}
	steps := 400
	if testing.Short() {
		steps = 100
	}
	for step := range steps {
		update(t, s, func(tx *Txn) error {
			for range 1 + rng.IntN(4) {
				r := recipients[rng.IntN(len(recipients))]
				reg := m.regs[r]
				switch op := rng.IntN(100); {
				case reg == nil || op < 3: // (re-)register
					nr := testRegistration(r)
					nr.StampDifficulty = uint8(rng.IntN(256))
					nr.Items, nr.Bytes, nr.NextSeq = rng.IntN(9), int64(rng.IntN(9)), uint64(rng.IntN(9)) // ignored
					if err := tx.PutMailboxRegistration(nr); err != nil {
						return err
					}
					if reg == nil {
						nr.Items, nr.StrangerItems, nr.Bytes, nr.NextSeq = 0, 0, 0, 1
					} else {
						nr.Items, nr.StrangerItems, nr.Bytes, nr.NextSeq = reg.Items, reg.StrangerItems, reg.Bytes, reg.NextSeq
					}
					m.regs[r] = &nr
				case op < 5: // delete the whole mailbox
					if err := tx.DeleteMailbox(r); err != nil {
						return err
					}
					delete(m.regs, r)
					delete(m.items, r)
				case op < 55: // put
					d := depositors[rng.IntN(len(depositors))]
					it := testItem(r, d, d == depositors[2], 1+rng.IntN(1000), 1+rng.IntN(64))
					if err := tx.PutMailboxItem(it); err != nil {
						return err
					}
					if it.Seq != reg.NextSeq {
						t.Fatalf("step %d: seq %d, want %d", step, it.Seq, reg.NextSeq)
					}
					reg.NextSeq++
					reg.Items++
					reg.Bytes += int64(len(it.Sealed))
					if it.Stranger {
						reg.StrangerItems++
					}
					m.items[r] = append(m.items[r], *it)
				default: // delete an item, sometimes one that is not there
					seq := uint64(rng.IntN(int(reg.NextSeq) + 1))
					ok, err := tx.DeleteMailboxItem(r, seq)
					if err != nil {
						return err
					}
					i := slices.IndexFunc(m.items[r], func(it MailboxItem) bool { return it.Seq == seq })
					if ok != (i >= 0) {
						t.Fatalf("step %d: DeleteMailboxItem(%d) = %v, model has it: %v", step, seq, ok, i >= 0)
					}
					if i >= 0 {
						it := m.items[r][i]
						reg.Items--
						reg.Bytes -= int64(len(it.Sealed))
						if it.Stranger {
							reg.StrangerItems--
						}
						m.items[r] = slices.Delete(m.items[r], i, i+1)
					}
				}
			}
			return nil
		})
		m.check(t, s, step, depositors)
	}
}

func TestMailboxCorruptRecords(t *testing.T) {
	s := openMem(t)
	r := peerN(1)
	update(t, s, func(tx *Txn) error {
		if err := tx.PutMailboxRegistration(testRegistration(r)); err != nil {
			return err
		}
		return tx.PutMailboxItem(testItem(r, "cap", false, 1, 4))
	})
	regKey, _ := peerKey(prefixMailbox, r, 0)
	itemKey, _ := mailboxItemKey(r, 1)
	depKey, _ := mailboxDepositorKey(r, []byte("cap"))
	junk := []byte{0xff, 0xff, 0xff}
	readers := map[string]func(*Txn) error{
		"registration":  func(tx *Txn) error { _, err := tx.MailboxRegistration(r); return err },
		"registrations": func(tx *Txn) error { _, err := tx.MailboxRegistrations(); return err },
		"put registration": func(tx *Txn) error {
			return tx.PutMailboxRegistration(testRegistration(r))
		},
		"put item":     func(tx *Txn) error { return tx.PutMailboxItem(testItem(r, "cap", false, 2, 1)) },
		"items":        func(tx *Txn) error { _, err := tx.MailboxItems(r, 0, 10, 100); return err },
		"delete item":  func(tx *Txn) error { _, err := tx.DeleteMailboxItem(r, 1); return err },
		"depositor":    func(tx *Txn) error { _, _, err := tx.MailboxDepositor(r, []byte("cap")); return err },
		"items before": func(tx *Txn) error { _, err := tx.MailboxItemsBefore(at(100), 10); return err },
	}
	tests := []struct {
		name    string
		key     []byte
		value   []byte // nil: delete the key
		readers []string
	}{
		{"junk registration", regKey, junk, []string{"registration", "registrations", "put registration", "put item", "delete item"}},
		{"registration counting too few bytes", regKey, mustMarshalReg(t, 32, 1, 0, 0, 2), []string{"registration", "registrations", "put item", "delete item"}},
		{"registration with too many strangers", regKey, mustMarshalReg(t, 32, 1, 2, 4, 2), []string{"registration", "put item"}},
		{"registration with next seq 0", regKey, mustMarshalReg(t, 32, 0, 0, 0, 0), []string{"registration", "put item"}},
		{"registration with items at or above next seq", regKey, mustMarshalReg(t, 32, 2, 0, 4, 2), []string{"registration", "put item"}},
		{"registration with a short key", regKey, mustMarshalReg(t, 31, 1, 0, 4, 2), []string{"registration", "put registration"}},
		{"registration without the item", regKey, mustMarshalReg(t, 32, 0, 0, 0, 2), []string{"delete item"}},
		{"registration missing", regKey, nil, []string{"delete item"}},
		{"junk item", itemKey, junk, []string{"items", "delete item", "items before"}},
		{"item with empty sealed", itemKey, mustMarshalItem(t, "cap", 5, 0), []string{"items", "delete item", "items before"}},
		{"item with empty depositor", itemKey, mustMarshalItem(t, "", 5, 4), []string{"items", "items before"}},
		{"item with long depositor", itemKey, mustMarshalItem(t, strings.Repeat("x", 65), 5, 4), []string{"items", "items before"}},
		{"item without time", itemKey, mustMarshalItem(t, "cap", 0, 4), []string{"items", "items before"}},
		{"junk depositor", depKey, junk, []string{"depositor", "put item", "delete item"}},
		{"depositor of no items", depKey, mustMarshalCounter(t, 0, 0), []string{"depositor", "delete item"}},
		{"depositor counting too few bytes", depKey, mustMarshalCounter(t, 1, 3), []string{"delete item"}},
		{"depositor counting too many bytes", depKey, mustMarshalCounter(t, 1, 5), []string{"delete item"}},
		{"depositor missing", depKey, nil, []string{"delete item"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, name := range tc.readers {
				err := s.Update(func(tx *Txn) error {
					var err error
					if tc.value == nil {
						err = tx.delete(tc.key)
					} else {
						err = tx.set(tc.key, tc.value)
					}
					if err != nil {
						return err
					}
					err = readers[name](tx)
					return errors.Join(err, errRollback) // never commit
				})
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s: %v, want ErrCorrupt", name, err)
				}
			}
		})
	}
	// The store itself was never changed.
	view(t, s, func(tx *Txn) error {
		reg, err := tx.MailboxRegistration(r)
		if err != nil || reg.Items != 1 || reg.Bytes != 4 {
			t.Errorf("registration after the rolled-back corruptions = %+v, %v", reg, err)
		}
		return nil
	})
}

func mustMarshal(t *testing.T, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustMarshalReg(t *testing.T, keyLen int, items, stranger, n, next uint64) []byte {
	return mustMarshal(t, &storepb.MailboxRegistration{CapabilityKey: make([]byte, keyLen),
		Items: items, StrangerItems: stranger, Bytes: n, NextSeq: next})
}

func mustMarshalItem(t *testing.T, depositor string, deposited int64, sealed int) []byte {
	return mustMarshal(t, &storepb.MailboxItem{Depositor: []byte(depositor), DepositedUnixNano: deposited,
		Sealed: make([]byte, sealed)})
}

func mustMarshalCounter(t *testing.T, items, n uint64) []byte {
	return mustMarshal(t, &storepb.MailboxCounter{Items: items, Bytes: n})
}

// TestPrefixesDistinct checks that no record kind's prefix starts another's,
// so that iterating over one kind never meets another's keys.
func TestPrefixesDistinct(t *testing.T) {
	prefixes := []string{
		prefixIdentity, prefixSignedPreKey, prefixCurrentSPK, prefixOneTimeKey, prefixOneTimeTime,
		prefixSequence, prefixSetting, prefixContact, prefixMessage, prefixMessageIndex,
		prefixConversation, prefixOutbox, prefixOutboxIndex, prefixSession, prefixRoom,
		prefixRoomMessage, prefixRoomTime, prefixRoomIndex, prefixRoomHigh, prefixGroup,
		prefixGroupRoster, prefixGroupKey, prefixGroupParked, prefixGroupSend, prefixGroupChain,
		prefixGroupEnvelope, prefixGroupEnvIndex, prefixGroupHigh, prefixGroupMessage,
		prefixGroupMsgIndex, prefixGroupNote, prefixGroupReceipt, prefixGroupName, prefixKnownPeer,
		prefixMailbox, prefixMailboxItem, prefixMailboxDep, string(keySchema),
	}
	for i, a := range prefixes {
		for j, b := range prefixes {
			if i != j && strings.HasPrefix(b, a) {
				t.Errorf("prefix %q starts %q", a, b)
			}
		}
	}
}
