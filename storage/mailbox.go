package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// The mailbox side: a node that holds already-encrypted 1:1 items for
// recipients who are offline. Each recipient it serves has a registration
// (mb/), a queue of items in seq order (mq/) and a counter per depositor
// (md/). The registration carries the counters of the whole queue; the
// methods here keep them and the depositors' exact in the same transaction
// as the items, so quotas can be checked without scanning.

// capabilityKeySize is the size of a mailbox registration's capability key.
const capabilityKeySize = 32

// maxDepositorLen is the longest depositor a mailbox item may name.
const maxDepositorLen = 64

// MailboxRegistration is a recipient this node holds mail for.
type MailboxRegistration struct {
	Recipient       peer.ID
	Appointment     []byte // the recipient's signed statement, as received
	CapabilityKey   []byte // 32 bytes: checks depositors' capabilities
	StampDifficulty uint8  // what strangers' deposits must carry
	Appointed       time.Time
	Expires         time.Time
	// Bundle is the recipient's prekey bundle (its signed prekey, no
	// one-time prekey), which the mailbox serves to whoever asks, so that a
	// first message can be deposited while the recipient is away.
	Bundle []byte
	// Kept by the store:
	Items, StrangerItems int    // items queued, and of those deposited by strangers
	Bytes                int64  // sum of the queued items' len(Sealed)
	NextSeq              uint64 // Seq of the next item; the first is 1
}

// MailboxItem is one deposit held for a recipient.
type MailboxItem struct {
	Recipient peer.ID
	Seq       uint64 // assigned by PutMailboxItem, increasing per recipient
	Depositor []byte // who it counts against: a capability label (8 bytes) or a stranger's peer ID bytes; 1..64 bytes
	Stranger  bool
	Deposited time.Time
	Sealed    []byte // the opaque sealed item
}

// mailboxItemKey is mq/<peer><seq>.
func mailboxItemKey(r peer.ID, seq uint64) ([]byte, error) {
	k, err := peerKey(prefixMailboxItem, r, 8)
	if err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint64(k, seq), nil
}

// mailboxDepositorKey is md/<peer><len><depositor>.
func mailboxDepositorKey(r peer.ID, depositor []byte) ([]byte, error) {
	if err := checkDepositor(depositor); err != nil {
		return nil, err
	}
	k, err := peerKey(prefixMailboxDep, r, 1+len(depositor))
	if err != nil {
		return nil, err
	}
	k = append(k, byte(len(depositor)))
	return append(k, depositor...), nil
}

func checkDepositor(d []byte) error {
	if len(d) == 0 || len(d) > maxDepositorLen {
		return fmt.Errorf("%w: depositor of %d bytes", ErrInvalid, len(d))
	}
	return nil
}

// MailboxRegistration returns r's registration, or ErrNotFound.
func (t *Txn) MailboxRegistration(r peer.ID) (MailboxRegistration, error) {
	reg, err := t.mailboxRegistration(r)
	if err != nil {
		return MailboxRegistration{}, fmt.Errorf("storage: mailbox registration %s: %w", r, err)
	}
	return reg, nil
}

func (t *Txn) mailboxRegistration(r peer.ID) (MailboxRegistration, error) {
	k, err := peerKey(prefixMailbox, r, 0)
	if err != nil {
		return MailboxRegistration{}, err
	}
	b, err := t.get(k)
	if err != nil {
		return MailboxRegistration{}, err
	}
	return decodeMailboxRegistration(r, b)
}

// PutMailboxRegistration creates or updates reg.Recipient's registration:
// Appointment, CapabilityKey, StampDifficulty, Appointed and Expires are set
// from reg; the counters and NextSeq of an existing one are kept (those in
// reg are ignored). A new registration starts empty with NextSeq 1.
func (t *Txn) PutMailboxRegistration(reg MailboxRegistration) error {
	if err := t.putMailboxRegistration(reg); err != nil {
		return fmt.Errorf("storage: put mailbox registration %s: %w", reg.Recipient, err)
	}
	return nil
}

func (t *Txn) putMailboxRegistration(reg MailboxRegistration) error {
	if len(reg.CapabilityKey) != capabilityKeySize {
		return fmt.Errorf("%w: capability key of %d bytes", ErrInvalid, len(reg.CapabilityKey))
	}
	switch old, err := t.mailboxRegistration(reg.Recipient); {
	case errors.Is(err, ErrNotFound):
		reg.Items, reg.StrangerItems, reg.Bytes, reg.NextSeq = 0, 0, 0, 1
	case err != nil:
		return err
	default:
		reg.Items, reg.StrangerItems, reg.Bytes, reg.NextSeq = old.Items, old.StrangerItems, old.Bytes, old.NextSeq
	}
	return t.setMailboxRegistration(reg)
}

func (t *Txn) setMailboxRegistration(reg MailboxRegistration) error {
	k, err := peerKey(prefixMailbox, reg.Recipient, 0)
	if err != nil {
		return err
	}
	return t.setProto(k, mailboxRegistrationRecord(reg))
}

func mailboxRegistrationRecord(reg MailboxRegistration) *storepb.MailboxRegistration {
	return &storepb.MailboxRegistration{
		Appointment:       reg.Appointment,
		CapabilityKey:     reg.CapabilityKey,
		StampDifficulty:   uint32(reg.StampDifficulty),
		AppointedUnixNano: toUnixNano(reg.Appointed),
		ExpiresUnixNano:   toUnixNano(reg.Expires),
		Items:             uint64(reg.Items),
		StrangerItems:     uint64(reg.StrangerItems),
		Bytes:             uint64(reg.Bytes),
		NextSeq:           reg.NextSeq,
		Bundle:            reg.Bundle,
	}
}

// decodeMailboxRegistration decodes r's registration record, checking that
// its counters are consistent.
func decodeMailboxRegistration(r peer.ID, b []byte) (MailboxRegistration, error) {
	var rec storepb.MailboxRegistration
	if err := proto.Unmarshal(b, &rec); err != nil {
		return MailboxRegistration{}, fmt.Errorf("%w: mailbox registration: %w", ErrCorrupt, err)
	}
	items, stranger, n, next := rec.GetItems(), rec.GetStrangerItems(), rec.GetBytes(), rec.GetNextSeq()
	switch {
	case len(rec.GetCapabilityKey()) != capabilityKeySize:
		return MailboxRegistration{}, fmt.Errorf("%w: mailbox registration: capability key of %d bytes", ErrCorrupt, len(rec.GetCapabilityKey()))
	case rec.GetStampDifficulty() > math.MaxUint8:
		return MailboxRegistration{}, fmt.Errorf("%w: mailbox registration: stamp difficulty %d", ErrCorrupt, rec.GetStampDifficulty())
	case next == 0, items > next-1, items > math.MaxInt, n > math.MaxInt64,
		stranger > items, items > n, (items == 0) != (n == 0):
		// Every item has a seq below next and at least one byte.
		return MailboxRegistration{}, fmt.Errorf("%w: mailbox registration: %d items (%d from strangers) of %d bytes, next seq %d",
			ErrCorrupt, items, stranger, n, next)
	}
	return MailboxRegistration{
		Recipient:       r,
		Appointment:     rec.GetAppointment(),
		Bundle:          rec.GetBundle(),
		CapabilityKey:   rec.GetCapabilityKey(),
		StampDifficulty: uint8(rec.GetStampDifficulty()),
		Appointed:       unixNano(rec.GetAppointedUnixNano()),
		Expires:         unixNano(rec.GetExpiresUnixNano()),
		Items:           int(items),
		StrangerItems:   int(stranger),
		Bytes:           int64(n),
		NextSeq:         next,
	}, nil
}

// MailboxRegistrations returns every registration, in key order.
func (t *Txn) MailboxRegistrations() ([]MailboxRegistration, error) {
	var out []MailboxRegistration
	err := t.each([]byte(prefixMailbox), func(k, v []byte) error {
		r, rest, err := peerFromKey(prefixMailbox, k)
		if err != nil {
			return err
		}
		if len(rest) != 0 {
			return fmt.Errorf("%w: mailbox registration key of %d bytes", ErrCorrupt, len(k))
		}
		reg, err := decodeMailboxRegistration(r, v)
		if err != nil {
			return err
		}
		out = append(out, reg)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: mailbox registrations: %w", err)
	}
	return out, nil
}

// DeleteMailbox deletes r's registration, every item queued for it and its
// depositor counters; deleting a missing mailbox is not an error. It deletes
// everything in this transaction, so a queue with more items than Badger
// takes in one commit fails with ErrTxnTooBig; the per-recipient quota keeps
// queues far below that.
func (t *Txn) DeleteMailbox(r peer.ID) error {
	for _, prefix := range []string{prefixMailbox, prefixMailboxItem, prefixMailboxDep} {
		k, err := peerKey(prefix, r, 0)
		if err != nil {
			return fmt.Errorf("storage: delete mailbox: %w", err)
		}
		if prefix == prefixMailbox {
			err = t.delete(k)
		} else {
			// k ends with the length-prefixed peer: no other peer's keys
			// start with it.
			err = t.deletePrefix(k)
		}
		if err != nil {
			return fmt.Errorf("storage: delete mailbox %s: %w", r, err)
		}
	}
	return nil
}

// PutMailboxItem appends it to its recipient's queue (ErrNotFound without a
// registration), assigning it.Seq from the registration's NextSeq, and adds
// it to the registration's counters (Items, Bytes = sum of len(Sealed),
// StrangerItems) and to its depositor's. It.Deposited must be set.
func (t *Txn) PutMailboxItem(it *MailboxItem) error {
	if it == nil {
		return fmt.Errorf("storage: put mailbox item: %w: nil item", ErrInvalid)
	}
	seq, err := t.putMailboxItem(it)
	if err != nil {
		return fmt.Errorf("storage: put mailbox item for %s: %w", it.Recipient, err)
	}
	it.Seq = seq
	return nil
}

func (t *Txn) putMailboxItem(it *MailboxItem) (uint64, error) {
	if len(it.Sealed) == 0 {
		return 0, fmt.Errorf("%w: empty sealed item", ErrInvalid)
	}
	if _, err := timeKey(it.Deposited); err != nil {
		return 0, err
	}
	dk, err := mailboxDepositorKey(it.Recipient, it.Depositor)
	if err != nil {
		return 0, err
	}
	reg, err := t.mailboxRegistration(it.Recipient)
	if err != nil {
		return 0, err
	}
	seq := reg.NextSeq
	if seq == math.MaxUint64 {
		return 0, fmt.Errorf("%w: mailbox seqs exhausted", ErrInvalid)
	}
	k, err := mailboxItemKey(it.Recipient, seq)
	if err != nil {
		return 0, err
	}
	items, n, err := t.mailboxCounter(dk)
	if err != nil {
		return 0, err
	}
	size := int64(len(it.Sealed))
	reg.NextSeq++
	reg.Items++
	reg.Bytes += size
	if it.Stranger {
		reg.StrangerItems++
	}
	if err := t.setMailboxRegistration(reg); err != nil {
		return 0, err
	}
	if err := t.setProto(dk, &storepb.MailboxCounter{Items: uint64(items + 1), Bytes: uint64(n + size)}); err != nil {
		return 0, err
	}
	return seq, t.setProto(k, mailboxItemRecord(it))
}

func mailboxItemRecord(it *MailboxItem) *storepb.MailboxItem {
	return &storepb.MailboxItem{
		Depositor:         it.Depositor,
		Stranger:          it.Stranger,
		DepositedUnixNano: toUnixNano(it.Deposited),
		Sealed:            it.Sealed,
	}
}

// decodeMailboxItem decodes the record of r's item seq.
func decodeMailboxItem(r peer.ID, seq uint64, b []byte) (MailboxItem, error) {
	var rec storepb.MailboxItem
	if err := proto.Unmarshal(b, &rec); err != nil {
		return MailboxItem{}, fmt.Errorf("%w: mailbox item %d: %w", ErrCorrupt, seq, err)
	}
	switch d := rec.GetDepositor(); {
	case len(d) == 0 || len(d) > maxDepositorLen:
		return MailboxItem{}, fmt.Errorf("%w: mailbox item %d: depositor of %d bytes", ErrCorrupt, seq, len(d))
	case len(rec.GetSealed()) == 0:
		return MailboxItem{}, fmt.Errorf("%w: mailbox item %d: empty sealed item", ErrCorrupt, seq)
	case rec.GetDepositedUnixNano() <= 0:
		return MailboxItem{}, fmt.Errorf("%w: mailbox item %d: deposited at %d", ErrCorrupt, seq, rec.GetDepositedUnixNano())
	}
	return MailboxItem{
		Recipient: r,
		Seq:       seq,
		Depositor: rec.GetDepositor(),
		Stranger:  rec.GetStranger(),
		Deposited: unixNano(rec.GetDepositedUnixNano()),
		Sealed:    rec.GetSealed(),
	}, nil
}

// decodeMailboxItemKey returns the recipient and seq of an mq/ key.
func decodeMailboxItemKey(k []byte) (peer.ID, uint64, error) {
	r, rest, err := peerFromKey(prefixMailboxItem, k)
	if err != nil {
		return "", 0, err
	}
	if len(rest) != 8 {
		return "", 0, fmt.Errorf("%w: mailbox item key of %d bytes", ErrCorrupt, len(k))
	}
	return r, binary.BigEndian.Uint64(rest), nil
}

// MailboxItems returns up to maxItems items of r with Seq > after, in Seq
// order, stopping before maxBytes of Sealed would be exceeded but always
// returning at least one item if there is any (so a maxBytes of 0 returns
// one). maxItems must be positive.
func (t *Txn) MailboxItems(r peer.ID, after uint64, maxItems, maxBytes int) ([]MailboxItem, error) {
	if maxItems <= 0 {
		return nil, fmt.Errorf("storage: mailbox items: %w: limit %d", ErrInvalid, maxItems)
	}
	prefix, err := peerKey(prefixMailboxItem, r, 0)
	if err != nil {
		return nil, fmt.Errorf("storage: mailbox items: %w", err)
	}
	if after == math.MaxUint64 {
		return nil, nil
	}
	start, err := mailboxItemKey(r, after+1)
	if err != nil {
		return nil, fmt.Errorf("storage: mailbox items: %w", err)
	}
	var out []MailboxItem
	var total int64
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	for it.Seek(start); it.Valid() && len(out) < maxItems; it.Next() {
		mi, err := decodeMailboxItemAt(it.Item())
		if err != nil {
			return nil, fmt.Errorf("storage: mailbox items of %s: %w", r, err)
		}
		total += int64(len(mi.Sealed))
		if len(out) > 0 && total > int64(maxBytes) {
			break
		}
		out = append(out, mi)
	}
	return out, nil
}

// decodeMailboxItemAt decodes the mailbox item an iterator is at.
func decodeMailboxItemAt(item *badger.Item) (MailboxItem, error) {
	r, seq, err := decodeMailboxItemKey(item.Key())
	if err != nil {
		return MailboxItem{}, err
	}
	v, err := item.ValueCopy(nil)
	if err != nil {
		return MailboxItem{}, err
	}
	return decodeMailboxItem(r, seq, v)
}

// DeleteMailboxItem deletes r's item seq and takes it off the counters; a
// missing item is not an error. It reports whether it deleted one.
func (t *Txn) DeleteMailboxItem(r peer.ID, seq uint64) (bool, error) {
	ok, err := t.deleteMailboxItem(r, seq)
	if err != nil {
		return false, fmt.Errorf("storage: delete mailbox item %d of %s: %w", seq, r, err)
	}
	return ok, nil
}

func (t *Txn) deleteMailboxItem(r peer.ID, seq uint64) (bool, error) {
	k, err := mailboxItemKey(r, seq)
	if err != nil {
		return false, err
	}
	b, err := t.get(k)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	mi, err := decodeMailboxItem(r, seq, b)
	if err != nil {
		return false, err
	}
	reg, err := t.mailboxRegistration(r)
	if errors.Is(err, ErrNotFound) {
		return false, fmt.Errorf("%w: item without a registration", ErrCorrupt)
	}
	if err != nil {
		return false, err
	}
	size := int64(len(mi.Sealed))
	if reg.Items < 1 || reg.Bytes < size || (mi.Stranger && reg.StrangerItems < 1) {
		return false, fmt.Errorf("%w: registration counts %d items (%d from strangers) of %d bytes, below the item's",
			ErrCorrupt, reg.Items, reg.StrangerItems, reg.Bytes)
	}
	reg.Items--
	reg.Bytes -= size
	if mi.Stranger {
		reg.StrangerItems--
	}
	dk, err := mailboxDepositorKey(r, mi.Depositor)
	if err != nil {
		return false, err
	}
	items, n, err := t.mailboxCounter(dk)
	if err != nil {
		return false, err
	}
	if items < 1 || n < size || (items == 1) != (n == size) {
		return false, fmt.Errorf("%w: depositor counts %d items of %d bytes, below the item's", ErrCorrupt, items, n)
	}
	if items == 1 {
		err = t.delete(dk)
	} else {
		err = t.setProto(dk, &storepb.MailboxCounter{Items: uint64(items - 1), Bytes: uint64(n - size)})
	}
	if err != nil {
		return false, err
	}
	if err := t.setMailboxRegistration(reg); err != nil {
		return false, err
	}
	return true, t.delete(k)
}

// MailboxDepositor returns what depositor has queued for r: 0 and 0 if
// nothing.
func (t *Txn) MailboxDepositor(r peer.ID, depositor []byte) (items int, bytes int64, err error) {
	k, err := mailboxDepositorKey(r, depositor)
	if err != nil {
		return 0, 0, fmt.Errorf("storage: mailbox depositor: %w", err)
	}
	items, bytes, err = t.mailboxCounter(k)
	if err != nil {
		return 0, 0, fmt.Errorf("storage: mailbox depositor of %s: %w", r, err)
	}
	return items, bytes, nil
}

// mailboxCounter reads the depositor counter under k; a missing one is 0, 0.
func (t *Txn) mailboxCounter(k []byte) (int, int64, error) {
	b, err := t.get(k)
	if errors.Is(err, ErrNotFound) {
		return 0, 0, nil
	}
	if err != nil {
		return 0, 0, err
	}
	return decodeMailboxCounter(b)
}

// decodeMailboxCounter decodes a depositor counter record. A stored counter
// has at least one item, and every item at least one byte.
func decodeMailboxCounter(b []byte) (int, int64, error) {
	var rec storepb.MailboxCounter
	if err := proto.Unmarshal(b, &rec); err != nil {
		return 0, 0, fmt.Errorf("%w: mailbox counter: %w", ErrCorrupt, err)
	}
	items, n := rec.GetItems(), rec.GetBytes()
	if items == 0 || items > math.MaxInt || n > math.MaxInt64 || items > n {
		return 0, 0, fmt.Errorf("%w: mailbox counter of %d items, %d bytes", ErrCorrupt, items, n)
	}
	return int(items), int64(n), nil
}

// MailboxItemsBefore returns up to max items, across all recipients,
// deposited before t0 (for the TTL sweep), in key order (by recipient, then
// seq). It reads every item; the sweep runs hourly. max must be positive.
func (t *Txn) MailboxItemsBefore(t0 time.Time, max int) ([]MailboxItem, error) {
	if max <= 0 {
		return nil, fmt.Errorf("storage: mailbox items before: %w: limit %d", ErrInvalid, max)
	}
	var out []MailboxItem
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixMailboxItem)})
	defer it.Close()
	for it.Rewind(); it.Valid() && len(out) < max; it.Next() {
		mi, err := decodeMailboxItemAt(it.Item())
		if err != nil {
			return nil, fmt.Errorf("storage: mailbox items before: %w", err)
		}
		if mi.Deposited.Before(t0) {
			out = append(out, mi)
		}
	}
	return out, nil
}
