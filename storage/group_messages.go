package storage

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/storage/internal/storepb"
)

// GroupEnvelope is one signed, encrypted group message as it travelled,
// kept so that the node can serve it to members who missed it: they verify
// the author's signature themselves.
type GroupEnvelope struct {
	Group    GroupID
	Epoch    uint64
	Sender   peer.ID
	Seq      uint64 // per group, epoch and sender, from 0
	ID       [32]byte
	Data     []byte
	Received time.Time
	Opened   bool // decrypted (or ours); false while its epoch key is missing
}

// groupEnvelopeKey is ge/<group><epoch><sender><seq>.
func groupEnvelopeKey(id GroupID, epoch uint64, sender peer.ID, seq uint64) ([]byte, error) {
	k, err := groupEpochPeerKey(prefixGroupEnvelope, id, epoch, sender, 8)
	if err != nil {
		return nil, err
	}
	return binary.BigEndian.AppendUint64(k, seq), nil
}

// groupRef is the tail of an envelope key: epoch, length-prefixed sender,
// seq. The envelope index maps IDs to it.
func encodeGroupRef(epoch uint64, sender peer.ID, seq uint64) []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 8+1+len(sender)+8), epoch)
	b = append(b, byte(len(sender)))
	b = append(b, sender...)
	return binary.BigEndian.AppendUint64(b, seq)
}

func decodeGroupRef(b []byte) (uint64, peer.ID, uint64, error) {
	if len(b) < 8+1+1+8 || int(b[8]) != len(b)-8-1-8 {
		return 0, "", 0, fmt.Errorf("%w: group envelope reference of %d bytes", ErrCorrupt, len(b))
	}
	return binary.BigEndian.Uint64(b), peer.ID(b[9 : len(b)-8]), binary.BigEndian.Uint64(b[len(b)-8:]), nil
}

// PutGroupEnvelope stores e and reports whether it was added: storing the
// same envelope (by ID) again returns false. A different envelope with the
// group, epoch, sender and seq of a stored one (a sender signing two) is
// refused with ErrMismatch; the first one stays.
func (t *Txn) PutGroupEnvelope(e GroupEnvelope) (bool, error) {
	added, err := t.putGroupEnvelope(e)
	if err != nil {
		return false, fmt.Errorf("storage: put group envelope %x: %w", e.ID[:8], err)
	}
	return added, nil
}

func (t *Txn) putGroupEnvelope(e GroupEnvelope) (bool, error) {
	switch {
	case e.Group.IsZero():
		return false, fmt.Errorf("%w: zero group ID", ErrInvalid)
	case e.ID == [32]byte{}:
		return false, fmt.Errorf("%w: zero envelope ID", ErrInvalid)
	case len(e.Data) == 0:
		return false, fmt.Errorf("%w: empty envelope", ErrInvalid)
	case e.Seq == math.MaxUint64:
		return false, fmt.Errorf("%w: seq %d", ErrInvalid, e.Seq)
	}
	k, err := groupEnvelopeKey(e.Group, e.Epoch, e.Sender, e.Seq)
	if err != nil {
		return false, err
	}
	ik := groupKey(prefixGroupEnvIndex, e.Group, 32)
	ik = append(ik, e.ID[:]...)
	if ok, err := t.has(ik); err != nil || ok {
		return false, err
	}
	if ok, err := t.has(k); err != nil {
		return false, err
	} else if ok {
		return false, fmt.Errorf("%w: another envelope from %s has epoch %d seq %d", ErrMismatch, e.Sender, e.Epoch, e.Seq)
	}
	rec := &storepb.GroupEnvelope{Id: e.ID[:], Data: e.Data, ReceivedUnixNano: toUnixNano(e.Received), Opened: e.Opened}
	if err := t.setProto(k, rec); err != nil {
		return false, err
	}
	if err := t.set(ik, encodeGroupRef(e.Epoch, e.Sender, e.Seq)); err != nil {
		return false, err
	}
	hk, err := groupEpochPeerKey(prefixGroupHigh, e.Group, e.Epoch, e.Sender, 0)
	if err != nil {
		return false, err
	}
	next, known, err := t.groupNext(hk)
	if err != nil {
		return false, err
	}
	switch {
	case e.Seq == next:
		return true, t.raiseGroupNext(hk, e.Group, e.Epoch, e.Sender, e.Seq+1)
	case !known:
		// List the sender in GroupMarks even before its seq 0 arrives.
		return true, t.set(hk, binary.BigEndian.AppendUint64(nil, 0))
	}
	return true, nil
}

func (t *Txn) groupNext(hk []byte) (uint64, bool, error) {
	b, err := t.get(hk)
	if isNotFound(err) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	n, err := decodeHighWater(b)
	return n, err == nil, err
}

// raiseGroupNext sets the mark to next and then past every stored successor.
func (t *Txn) raiseGroupNext(hk []byte, id GroupID, epoch uint64, sender peer.ID, next uint64) error {
	prefix, err := groupEpochPeerKey(prefixGroupEnvelope, id, epoch, sender, 8)
	if err != nil {
		return err
	}
	it := t.txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	for it.Seek(binary.BigEndian.AppendUint64(bytes.Clone(prefix), next)); it.Valid() && next < math.MaxUint64; it.Next() {
		s, err := seqFromKey(prefix, it.Item().Key())
		if err != nil {
			it.Close()
			return err
		}
		if s != next {
			break
		}
		next++
	}
	it.Close() // Badger allows no writes while an iterator is open
	return t.set(hk, binary.BigEndian.AppendUint64(nil, next))
}

// GroupNext returns the mark of sender in an epoch: how many of its
// envelopes are held from seq 0 without a gap.
func (t *Txn) GroupNext(group GroupID, epoch uint64, sender peer.ID) (uint64, error) {
	hk, err := groupEpochPeerKey(prefixGroupHigh, group, epoch, sender, 0)
	if err != nil {
		return 0, fmt.Errorf("storage: group next: %w", err)
	}
	n, _, err := t.groupNext(hk)
	return n, wrap("group next", err)
}

// HasGroupEnvelope reports whether the group holds envelope id.
func (t *Txn) HasGroupEnvelope(group GroupID, id [32]byte) (bool, error) {
	ok, err := t.has(append(groupKey(prefixGroupEnvIndex, group, 32), id[:]...))
	return ok, wrap("has group envelope", err)
}

// GroupEnvelopeByID returns envelope id of the group, or ErrNotFound.
func (t *Txn) GroupEnvelopeByID(group GroupID, id [32]byte) (GroupEnvelope, error) {
	ref, err := t.get(append(groupKey(prefixGroupEnvIndex, group, 32), id[:]...))
	if err != nil {
		return GroupEnvelope{}, fmt.Errorf("storage: group envelope %x: %w", id[:8], err)
	}
	epoch, sender, seq, err := decodeGroupRef(ref)
	if err != nil {
		return GroupEnvelope{}, fmt.Errorf("storage: group envelope %x: %w", id[:8], err)
	}
	return t.GroupEnvelope(group, epoch, sender, seq)
}

// GroupEnvelope returns the envelope at (epoch, sender, seq), or ErrNotFound.
func (t *Txn) GroupEnvelope(group GroupID, epoch uint64, sender peer.ID, seq uint64) (GroupEnvelope, error) {
	k, err := groupEnvelopeKey(group, epoch, sender, seq)
	if err != nil {
		return GroupEnvelope{}, fmt.Errorf("storage: group envelope: %w", err)
	}
	b, err := t.get(k)
	if err != nil {
		return GroupEnvelope{}, fmt.Errorf("storage: group envelope %d/%d of %s: %w", epoch, seq, sender, err)
	}
	e, err := decodeGroupEnvelope(group, epoch, sender, seq, b)
	if err != nil {
		return GroupEnvelope{}, fmt.Errorf("storage: group envelope: %w", err)
	}
	return e, nil
}

func decodeGroupEnvelope(group GroupID, epoch uint64, sender peer.ID, seq uint64, b []byte) (GroupEnvelope, error) {
	var r storepb.GroupEnvelope
	if err := proto.Unmarshal(b, &r); err != nil {
		return GroupEnvelope{}, fmt.Errorf("%w: group envelope: %w", ErrCorrupt, err)
	}
	if len(r.GetId()) != 32 || len(r.GetData()) == 0 || r.GetReceivedUnixNano() < 0 {
		return GroupEnvelope{}, fmt.Errorf("%w: group envelope with an ID of %d bytes and %d bytes of data", ErrCorrupt, len(r.GetId()), len(r.GetData()))
	}
	return GroupEnvelope{Group: group, Epoch: epoch, Sender: sender, Seq: seq, ID: [32]byte(r.GetId()), Data: r.GetData(),
		Received: unixNano(r.GetReceivedUnixNano()), Opened: r.GetOpened()}, nil
}

// SetGroupEnvelopeOpened records that a stored envelope has been decrypted.
func (t *Txn) SetGroupEnvelopeOpened(e GroupEnvelope) error {
	k, err := groupEnvelopeKey(e.Group, e.Epoch, e.Sender, e.Seq)
	if err != nil {
		return fmt.Errorf("storage: set group envelope opened: %w", err)
	}
	rec := &storepb.GroupEnvelope{Id: e.ID[:], Data: e.Data, ReceivedUnixNano: toUnixNano(e.Received), Opened: true}
	return wrap("set group envelope opened", t.setProto(k, rec))
}

// GroupEnvelopes returns up to limit envelopes of sender in an epoch with a
// seq at or above fromSeq, in ascending seq order.
func (t *Txn) GroupEnvelopes(group GroupID, epoch uint64, sender peer.ID, fromSeq uint64, limit int) ([]GroupEnvelope, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("storage: group envelopes: %w: limit %d", ErrInvalid, limit)
	}
	prefix, err := groupEpochPeerKey(prefixGroupEnvelope, group, epoch, sender, 8)
	if err != nil {
		return nil, fmt.Errorf("storage: group envelopes: %w", err)
	}
	var out []GroupEnvelope
	err = t.eachFrom(prefix, binary.BigEndian.AppendUint64(bytes.Clone(prefix), fromSeq), func(k, v []byte) error {
		if len(out) >= limit {
			return errStop
		}
		seq, err := seqFromKey(prefix, k)
		if err != nil {
			return err
		}
		e, err := decodeGroupEnvelope(group, epoch, sender, seq, bytes.Clone(v))
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil && err != errStop {
		return nil, fmt.Errorf("storage: group envelopes: %w", err)
	}
	return out, nil
}

// UnopenedGroupEnvelopes returns up to limit envelopes of an epoch that
// have not been decrypted, by sender then seq.
func (t *Txn) UnopenedGroupEnvelopes(group GroupID, epoch uint64, limit int) ([]GroupEnvelope, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("storage: unopened group envelopes: %w: limit %d", ErrInvalid, limit)
	}
	prefix := groupEpochKey(prefixGroupEnvelope, group, epoch, 0)
	var out []GroupEnvelope
	err := t.each(prefix, func(k, v []byte) error {
		if len(out) >= limit {
			return errStop
		}
		rest := k[len(prefix):]
		if len(rest) < 1+1+8 || int(rest[0]) != len(rest)-1-8 {
			return fmt.Errorf("%w: group envelope key of %d bytes", ErrCorrupt, len(k))
		}
		var r storepb.GroupEnvelope
		if err := proto.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("%w: group envelope: %w", ErrCorrupt, err)
		}
		if r.GetOpened() {
			return nil
		}
		sender := peer.ID(bytes.Clone(rest[1 : len(rest)-8]))
		e, err := decodeGroupEnvelope(group, epoch, sender, binary.BigEndian.Uint64(rest[len(rest)-8:]), bytes.Clone(v))
		if err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	if err != nil && err != errStop {
		return nil, fmt.Errorf("storage: unopened group envelopes: %w", err)
	}
	return out, nil
}

// GroupMarks returns, for every epoch and sender of the group, the number of
// its envelopes held without a gap from seq 0 (Next): the high-water marks
// that history sync exchanges. A sender whose seq 0 has not arrived yet is
// listed with 0.
func (t *Txn) GroupMarks(group GroupID) ([]GroupMark, error) {
	prefix := groupKey(prefixGroupHigh, group, 0)
	var out []GroupMark
	err := t.each(prefix, func(k, v []byte) error {
		rest := k[len(prefix):]
		if len(rest) < 8+2 || int(rest[8]) != len(rest)-9 {
			return fmt.Errorf("%w: group high-water key of %d bytes", ErrCorrupt, len(k))
		}
		n, err := decodeHighWater(v)
		if err != nil {
			return err
		}
		out = append(out, GroupMark{Epoch: binary.BigEndian.Uint64(rest), Sender: peer.ID(bytes.Clone(rest[9:])), Next: n})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: group marks %s: %w", group, err)
	}
	return out, nil
}

// GroupMessage is one decrypted group message as the user sees it: a line of
// text, a reply, an event, or a notice (rename, member left). Reactions and
// RSVPs are [GroupNote]s on their target.
type GroupMessage struct {
	Group      GroupID
	ID         [32]byte // the envelope's hash
	Epoch      uint64
	Sender     peer.ID
	Seq        uint64
	Kind       string
	Body       string
	ReplyTo    [32]byte // zero if none
	EventStart time.Time
	Sent       time.Time // the author's timestamp (ordering key)
	Received   time.Time
	Outbound   bool
}

// groupMessageKey is gm/<group><sent><id>.
func groupMessageKey(group GroupID, sent uint64, id [32]byte) []byte {
	k := binary.BigEndian.AppendUint64(groupKey(prefixGroupMessage, group, 8+32), sent)
	return append(k, id[:]...)
}

func groupMsgIndexKey(group GroupID, id [32]byte) []byte {
	return append(groupKey(prefixGroupMsgIndex, group, 32), id[:]...)
}

// PutGroupMessage stores m and reports whether it was added (false: a
// message with its ID is already stored).
func (t *Txn) PutGroupMessage(m GroupMessage) (bool, error) {
	if m.Group.IsZero() || m.ID == [32]byte{} || len(m.Sender) == 0 || len(m.Sender) > maxPeerIDLen || m.Kind == "" {
		return false, fmt.Errorf("storage: put group message: %w: zero group or ID, or no sender or kind", ErrInvalid)
	}
	sent, err := timeKey(m.Sent)
	if err != nil {
		return false, fmt.Errorf("storage: put group message: %w", err)
	}
	ik := groupMsgIndexKey(m.Group, m.ID)
	if ok, err := t.has(ik); err != nil || ok {
		return false, wrap("put group message", err)
	}
	rec := &storepb.GroupMessage{
		Epoch: m.Epoch, Sender: []byte(m.Sender), Seq: m.Seq, Kind: m.Kind, Body: m.Body,
		EventStartUnixNano: toUnixNano(m.EventStart), ReceivedUnixNano: toUnixNano(m.Received), Outbound: m.Outbound,
	}
	if m.ReplyTo != ([32]byte{}) {
		rec.ReplyTo = m.ReplyTo[:]
	}
	if err := t.setProto(groupMessageKey(m.Group, sent, m.ID), rec); err != nil {
		return false, fmt.Errorf("storage: put group message: %w", err)
	}
	return true, wrap("put group message", t.set(ik, binary.BigEndian.AppendUint64(nil, sent)))
}

// GroupMessage returns message id of the group, or ErrNotFound.
func (t *Txn) GroupMessage(group GroupID, id [32]byte) (GroupMessage, error) {
	b, err := t.get(groupMsgIndexKey(group, id))
	if err != nil {
		return GroupMessage{}, fmt.Errorf("storage: group message %x: %w", id[:8], err)
	}
	if len(b) != 8 {
		return GroupMessage{}, fmt.Errorf("storage: group message %x: %w: index of %d bytes", id[:8], ErrCorrupt, len(b))
	}
	sent := binary.BigEndian.Uint64(b)
	v, err := t.get(groupMessageKey(group, sent, id))
	if err != nil {
		return GroupMessage{}, fmt.Errorf("storage: group message %x: %w", id[:8], err)
	}
	m, err := decodeGroupMessage(group, sent, id, v)
	if err != nil {
		return GroupMessage{}, fmt.Errorf("storage: group message %x: %w", id[:8], err)
	}
	return m, nil
}

func decodeGroupMessage(group GroupID, sent uint64, id [32]byte, b []byte) (GroupMessage, error) {
	var r storepb.GroupMessage
	if err := proto.Unmarshal(b, &r); err != nil {
		return GroupMessage{}, fmt.Errorf("%w: group message: %w", ErrCorrupt, err)
	}
	switch {
	case len(r.GetSender()) == 0 || len(r.GetSender()) > maxPeerIDLen:
		return GroupMessage{}, fmt.Errorf("%w: group message sender of %d bytes", ErrCorrupt, len(r.GetSender()))
	case r.GetKind() == "":
		return GroupMessage{}, fmt.Errorf("%w: group message without a kind", ErrCorrupt)
	case len(r.GetReplyTo()) != 0 && len(r.GetReplyTo()) != 32:
		return GroupMessage{}, fmt.Errorf("%w: group reply target of %d bytes", ErrCorrupt, len(r.GetReplyTo()))
	case r.GetEventStartUnixNano() < 0 || r.GetReceivedUnixNano() < 0 || sent == 0 || sent > math.MaxInt64:
		return GroupMessage{}, fmt.Errorf("%w: group message time before 1970", ErrCorrupt)
	}
	m := GroupMessage{
		Group: group, ID: id, Epoch: r.GetEpoch(), Sender: peer.ID(r.GetSender()), Seq: r.GetSeq(), Kind: r.GetKind(),
		Body: r.GetBody(), EventStart: unixNano(r.GetEventStartUnixNano()), Sent: unixNano(int64(sent)),
		Received: unixNano(r.GetReceivedUnixNano()), Outbound: r.GetOutbound(),
	}
	copy(m.ReplyTo[:], r.GetReplyTo())
	return m, nil
}

// GroupMessages returns up to limit messages of the group, newest Sent
// first, all sent strictly before before (zero: from the newest).
func (t *Txn) GroupMessages(group GroupID, limit int, before time.Time) ([]GroupMessage, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("storage: group messages: %w: limit %d", ErrInvalid, limit)
	}
	prefix := groupKey(prefixGroupMessage, group, 0)
	var seek []byte
	if before.IsZero() {
		seek = append(bytes.Clone(prefix), bytes.Repeat([]byte{0xff}, 8+32+1)...)
	} else {
		b, err := timeKey(before)
		if err != nil {
			return nil, fmt.Errorf("storage: group messages: %w", err)
		}
		seek = binary.BigEndian.AppendUint64(bytes.Clone(prefix), b)
	}
	it := t.txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefix})
	defer it.Close()
	var out []GroupMessage
	for it.Seek(seek); it.Valid() && len(out) < limit; it.Next() {
		item := it.Item()
		rest := item.Key()[len(prefix):]
		if len(rest) != 8+32 {
			return nil, fmt.Errorf("storage: group messages: %w: key of %d bytes", ErrCorrupt, len(item.Key()))
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return nil, fmt.Errorf("storage: group messages: %w", err)
		}
		m, err := decodeGroupMessage(group, binary.BigEndian.Uint64(rest), [32]byte(rest[8:]), v)
		if err != nil {
			return nil, fmt.Errorf("storage: group messages: %w", err)
		}
		out = append(out, m)
	}
	return out, nil
}

// GroupNote is a reaction or an RSVP on a group message. A member may leave
// several reactions (one per emoji) but one RSVP per event: a newer one
// replaces it.
type GroupNote struct {
	Group  GroupID
	Target [32]byte
	Sender peer.ID
	Kind   string // "reaction" or "rsvp"
	Value  string // the emoji, or the answer
	Sent   time.Time
	ID     [32]byte // the envelope that carried it
}

// NoteReaction is the kind of a note that may repeat with other values.
const NoteReaction = "reaction"

// groupNoteKey is ga/<group><target><sender><kind><value>; the value is in
// the key only for reactions.
func groupNoteKey(n GroupNote) ([]byte, error) {
	value := ""
	if n.Kind == NoteReaction {
		value = n.Value
	}
	if len(n.Kind) == 0 || len(n.Kind) > 255 || len(value) > 255 {
		return nil, fmt.Errorf("%w: note kind or value too long", ErrInvalid)
	}
	k, err := roomPeerKey(prefixGroupNote, RoomID(n.Group), peer.ID(n.Target[:]), 1+len(n.Sender)+2+len(n.Kind)+len(value))
	if err != nil {
		return nil, err
	}
	if len(n.Sender) == 0 || len(n.Sender) > maxPeerIDLen {
		return nil, fmt.Errorf("%w: note sender of %d bytes", ErrInvalid, len(n.Sender))
	}
	k = append(k, byte(len(n.Sender)))
	k = append(k, n.Sender...)
	k = append(k, byte(len(n.Kind)))
	k = append(k, n.Kind...)
	k = append(k, byte(len(value)))
	return append(k, value...), nil
}

// PutGroupNote stores a note and reports whether it changed anything: a
// note already stored, or an RSVP older than the sender's last one, is
// not.
func (t *Txn) PutGroupNote(n GroupNote) (bool, error) {
	if n.Group.IsZero() || n.ID == [32]byte{} {
		return false, fmt.Errorf("storage: put group note: %w: zero group or ID", ErrInvalid)
	}
	sent, err := timeKey(n.Sent)
	if err != nil {
		return false, fmt.Errorf("storage: put group note: %w", err)
	}
	k, err := groupNoteKey(n)
	if err != nil {
		return false, fmt.Errorf("storage: put group note: %w", err)
	}
	if b, err := t.get(k); err == nil {
		var old storepb.GroupAnnotation
		if proto.Unmarshal(b, &old) == nil {
			if old.GetSentUnixNano() > int64(sent) || old.GetSentUnixNano() == int64(sent) && bytes.Compare(old.GetId(), n.ID[:]) >= 0 {
				return false, nil
			}
		}
	} else if !isNotFound(err) {
		return false, wrap("put group note", err)
	}
	rec := &storepb.GroupAnnotation{SentUnixNano: int64(sent), Id: n.ID[:], Value: n.Value}
	return true, wrap("put group note", t.setProto(k, rec))
}

// GroupNotes returns the notes on target, by sender, kind and value.
func (t *Txn) GroupNotes(group GroupID, target [32]byte) ([]GroupNote, error) {
	prefix, err := roomPeerKey(prefixGroupNote, RoomID(group), peer.ID(target[:]), 0)
	if err != nil {
		return nil, fmt.Errorf("storage: group notes: %w", err)
	}
	var out []GroupNote
	err = t.each(prefix, func(k, v []byte) error {
		n, err := decodeGroupNote(group, target, k[len(prefix):], v)
		if err != nil {
			return err
		}
		out = append(out, n)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("storage: group notes: %w", err)
	}
	return out, nil
}

// decodeGroupNote decodes a note from the tail of its key (sender, kind,
// value) and its record.
func decodeGroupNote(group GroupID, target [32]byte, rest, v []byte) (GroupNote, error) {
	var parts [3][]byte
	for i := range parts {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return GroupNote{}, fmt.Errorf("%w: group note key", ErrCorrupt)
		}
		parts[i] = bytes.Clone(rest[1 : 1+int(rest[0])])
		rest = rest[1+int(rest[0]):]
	}
	if len(rest) != 0 || len(parts[0]) == 0 || len(parts[1]) == 0 {
		return GroupNote{}, fmt.Errorf("%w: group note key", ErrCorrupt)
	}
	var r storepb.GroupAnnotation
	if err := proto.Unmarshal(v, &r); err != nil {
		return GroupNote{}, fmt.Errorf("%w: group note: %w", ErrCorrupt, err)
	}
	if len(r.GetId()) != 32 || r.GetSentUnixNano() <= 0 {
		return GroupNote{}, fmt.Errorf("%w: group note record", ErrCorrupt)
	}
	n := GroupNote{Group: group, Target: target, Sender: peer.ID(parts[0]), Kind: string(parts[1]), Value: string(parts[2]),
		Sent: unixNano(r.GetSentUnixNano()), ID: [32]byte(r.GetId())}
	if n.Kind != NoteReaction {
		n.Value = r.GetValue()
	}
	return n, nil
}

// errStop ends an iteration early.
var errStop = fmt.Errorf("stop")
