package node

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// GroupOutgoing is a group message the user sends.
type GroupOutgoing struct {
	// Kind is KindText (the default), KindReply, KindReaction, KindEvent
	// or KindRSVP.
	Kind string
	// Body is the text, the emoji of a reaction, the title of an event, or
	// the answer of an RSVP (RSVPYes, RSVPNo, RSVPMaybe).
	Body string
	// ReplyTo names the message replied or reacted to, or the event
	// answered.
	ReplyTo [32]byte
	// Start is an event's start time.
	Start time.Time
}

// GroupMessage is a group message as the user sees it, with the reactions
// and RSVPs on it and which members have received and read it.
type GroupMessage struct {
	storage.GroupMessage
	Reactions   []GroupReaction
	RSVPs       []GroupRSVP
	DeliveredTo []peer.ID // members (other than the author) who received it
	ReadBy      []peer.ID // members (other than the author) who read it
}

// GroupReaction is one member's reaction.
type GroupReaction struct {
	Peer  peer.ID
	Emoji string
}

// GroupRSVP is one member's answer to an event.
type GroupRSVP struct {
	Peer   peer.ID
	Answer string
}

// incoming is a decoded envelope with the bytes it came in.
type incoming struct {
	e    *group.Envelope
	data []byte
}

// groupContent builds the plaintext of an outgoing message.
func (n *Node) groupContent(out GroupOutgoing) (*dmpb.GroupContent, error) {
	if out.Kind == "" {
		out.Kind = KindText
		if out.ReplyTo != ([32]byte{}) {
			out.Kind = KindReply
		}
	}
	var zero [32]byte
	text := func() error {
		if out.Body == "" || len(out.Body) > n.cfg.Limits.MaxTextBytes || !utf8.ValidString(out.Body) {
			return fmt.Errorf("%w: a text is 1 to %d bytes of UTF-8", ErrTooLarge, n.cfg.Limits.MaxTextBytes)
		}
		return nil
	}
	switch out.Kind {
	case KindText, KindReply:
		if err := text(); err != nil {
			return nil, err
		}
		t := &dmpb.GroupText{Body: out.Body}
		if out.ReplyTo != zero {
			t.ReplyTo = out.ReplyTo[:]
		}
		return &dmpb.GroupContent{Body: &dmpb.GroupContent_Text{Text: t}}, nil
	case KindReaction:
		if out.ReplyTo == zero || out.Body == "" || len(out.Body) > maxEmojiBytes || !utf8.ValidString(out.Body) {
			return nil, fmt.Errorf("%w: a reaction needs a target and a short emoji", ErrInvalidGroup)
		}
		return &dmpb.GroupContent{Body: &dmpb.GroupContent_Reaction{Reaction: &dmpb.GroupReaction{Target: out.ReplyTo[:], Emoji: out.Body}}}, nil
	case KindEvent:
		if err := text(); err != nil {
			return nil, err
		}
		if out.Start.IsZero() || out.Start.Before(time.Unix(0, 0)) {
			return nil, fmt.Errorf("%w: an event needs a start time", ErrInvalidGroup)
		}
		return &dmpb.GroupContent{Body: &dmpb.GroupContent_Event{Event: &dmpb.GroupEvent{Title: out.Body, StartUnixNano: out.Start.UnixNano()}}}, nil
	case KindRSVP:
		a, ok := rsvpAnswers[out.Body]
		if !ok || out.ReplyTo == zero {
			return nil, fmt.Errorf("%w: an RSVP names an event and answers yes, no or maybe", ErrInvalidGroup)
		}
		return &dmpb.GroupContent{Body: &dmpb.GroupContent_Rsvp{Rsvp: &dmpb.GroupRsvp{Event: out.ReplyTo[:], Answer: a}}}, nil
	}
	return nil, fmt.Errorf("%w: unknown message kind %q", ErrInvalidGroup, out.Kind)
}

var rsvpAnswers = map[string]dmpb.GroupRsvp_Answer{RSVPYes: dmpb.GroupRsvp_YES, RSVPNo: dmpb.GroupRsvp_NO, RSVPMaybe: dmpb.GroupRsvp_MAYBE}

func rsvpName(a dmpb.GroupRsvp_Answer) (string, bool) {
	for name, x := range rsvpAnswers {
		if x == a {
			return name, true
		}
	}
	return "", false
}

// GroupSend seals a message with this node's chain of the group's newest
// epoch, stores it and publishes it on the group's topic (if the mesh is not
// there yet, members get it through sync).
func (n *Node) GroupSend(_ context.Context, id group.ID, out GroupOutgoing) (GroupMessage, error) {
	gc, err := n.groupContent(out)
	if err != nil {
		return GroupMessage{}, err
	}
	if out.Kind == KindRSVP {
		if err := n.store.View(func(tx *storage.Txn) error {
			m, err := tx.GroupMessage(sid(id), out.ReplyTo)
			if errors.Is(err, storage.ErrNotFound) || err == nil && m.Kind != KindEvent {
				return fmt.Errorf("%w: no event %x in the group", ErrNotFound, out.ReplyTo[:6])
			}
			return err
		}); err != nil {
			return GroupMessage{}, err
		}
	}
	lg, ok := n.groups.get(id)
	if !ok {
		return GroupMessage{}, fmt.Errorf("%w: not in group %s", ErrInvalidGroup, id)
	}
	data, mid, err := n.sealGroupID(lg, gc)
	if err != nil {
		return GroupMessage{}, err
	}
	if !lg.enqueue(data) {
		n.log.Debug("group publish queue full; sync will carry it", "group", id)
	}
	ms, err := n.groupMessages(id, func(tx *storage.Txn) ([]storage.GroupMessage, error) {
		m, err := tx.GroupMessage(sid(id), mid)
		if errors.Is(err, storage.ErrNotFound) {
			return nil, nil // a reaction or RSVP: a note, not a line
		}
		return []storage.GroupMessage{m}, err
	})
	if err != nil || len(ms) == 0 {
		return GroupMessage{GroupMessage: storage.GroupMessage{Group: sid(id), ID: mid, Sender: n.ID(), Kind: out.Kind, Body: out.Body,
			ReplyTo: out.ReplyTo, Outbound: true}}, err
	}
	return ms[0], nil
}

// RenameGroup renames the group for every member (owner or admin).
func (n *Node) RenameGroup(_ context.Context, id group.ID, name string) error {
	if err := checkGroupName(name); err != nil {
		return err
	}
	lg, ok := n.groups.get(id)
	if !ok {
		return fmt.Errorf("%w: not in group %s", ErrInvalidGroup, id)
	}
	v := lg.view.Load()
	if r := v.rosters[v.latest].Role(n.self()); r != group.RoleOwner && r != group.RoleAdmin {
		return fmt.Errorf("%w: only the group's owner or an admin can rename it", ErrNotAllowed)
	}
	data, _, err := n.sealGroupID(lg, &dmpb.GroupContent{Body: &dmpb.GroupContent_Rename{Rename: &dmpb.GroupRename{Name: name}}})
	if err != nil {
		return err
	}
	lg.enqueue(data)
	return nil
}

// sealGroup seals, stores and returns an envelope of ours.
func (n *Node) sealGroup(lg *liveGroup, gc *dmpb.GroupContent) ([]byte, error) {
	data, _, err := n.sealGroupID(lg, gc)
	return data, err
}

// sealGroupID seals gc as the next message of our chain in the newest epoch
// and stores, in one transaction, the advanced chain, the envelope and what
// it says; only then may it be published (sealing again from an older chain
// would reuse a message key).
func (n *Node) sealGroupID(lg *liveGroup, gc *dmpb.GroupContent) ([]byte, [32]byte, error) {
	l := n.groups.lock(lg.id)
	l.Lock()
	defer l.Unlock()
	var (
		data   []byte
		mid    [32]byte
		events []Event
	)
	err := n.store.Update(func(tx *storage.Txn) error {
		events = events[:0]
		g, err := getGroup(tx, lg.id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupJoined {
			return fmt.Errorf("%w: not in group %s (%s)", ErrInvalidGroup, lg.id, g.State)
		}
		chain, err := loadChain(tx, g)
		if err != nil {
			return err
		}
		latest := chain.latest()
		if !latest.IsMember(n.self()) {
			return fmt.Errorf("%w: not a member of epoch %d", ErrInvalidGroup, latest.Epoch)
		}
		kb, err := tx.GroupEpochKey(g.ID, latest.Epoch)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: epoch %d of group %s", ErrKeyPending, latest.Epoch, lg.id)
		}
		if err != nil {
			return err
		}
		gk, err := group.UnmarshalGroupKey(kb)
		if err != nil {
			return err
		}
		var sc *group.SendChain
		if b, err := tx.GroupSendChain(g.ID, latest.Epoch); err == nil {
			sc, err = group.UnmarshalSendChain(b, n.id.Signing())
			if err != nil {
				return err
			}
		} else if errors.Is(err, storage.ErrNotFound) {
			if sc, err = group.NewSendChain(gk, n.id.Signing()); err != nil {
				return err
			}
		} else {
			return err
		}
		now := n.clock.Now()
		gc.SentUnixNano = now.UnixNano()
		pt, err := proto.Marshal(gc)
		if err != nil {
			return err
		}
		env, err := sc.Seal(pt)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrTooLarge, err)
		}
		scb, err := sc.MarshalBinary()
		if err != nil {
			return err
		}
		if err := tx.PutGroupSendChain(g.ID, latest.Epoch, scb); err != nil {
			return err
		}
		if data, err = env.MarshalBinary(); err != nil {
			return err
		}
		mid = env.Hash()
		se := storage.GroupEnvelope{Group: g.ID, Epoch: env.Epoch, Sender: n.ID(), Seq: env.Seq, ID: mid, Data: data, Received: now, Opened: true}
		if _, err := tx.PutGroupEnvelope(se); err != nil {
			return err
		}
		ev, _, err := n.applyGroupContent(tx, &g, chain, env, mid, gc, true, now)
		if ev != nil {
			events = append(events, *ev)
		}
		return err
	})
	if err != nil {
		return nil, mid, err
	}
	for _, e := range events {
		n.bus.Publish(e)
	}
	return data, mid, nil
}

// storeEnvelopes stores checked envelopes of a group in one transaction and
// opens those whose epoch key is here; the others wait for it.
func (n *Node) storeEnvelopes(id group.ID, in []incoming) error {
	if len(in) == 0 {
		return nil
	}
	l := n.groups.lock(id)
	l.Lock()
	var (
		events []Event
		worthy bool
	)
	err := n.store.Update(func(tx *storage.Txn) error {
		events, worthy = events[:0], false
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		if g.State != storage.GroupJoined {
			return nil
		}
		chain, err := loadChain(tx, g)
		if err != nil {
			return err
		}
		now := time.Now().UTC()
		keys := epochKeys{}
		for _, x := range in {
			se := storage.GroupEnvelope{Group: g.ID, Epoch: x.e.Epoch, Sender: x.e.Sender.PeerID(), Seq: x.e.Seq, ID: x.e.Hash(), Data: x.data, Received: now}
			if dup, err := tx.HasGroupEnvelope(g.ID, se.ID); err != nil || dup {
				if err != nil {
					return err
				}
				continue
			}
			before, err := tx.GroupNext(g.ID, se.Epoch, se.Sender)
			if err != nil {
				return err
			}
			// Decrypt before storing, so the envelope is written once.
			pt, rc, err := n.openEnvelope(tx, g, keys, x.e, se.Sender)
			if err != nil {
				return err
			}
			se.Opened = rc != nil
			added, err := tx.PutGroupEnvelope(se)
			if errors.Is(err, storage.ErrMismatch) {
				n.log.Warn("group: a member signed two envelopes with one seq", "group", id, "sender", se.Sender, "epoch", se.Epoch, "seq", se.Seq)
				continue
			}
			if err != nil {
				return err
			}
			if !added {
				continue
			}
			if se.Seq == before {
				// Filling a gap moves the mark past envelopes held already,
				// which the last receipt could not count: send another.
				after, err := tx.GroupNext(g.ID, se.Epoch, se.Sender)
				if err != nil {
					return err
				}
				worthy = worthy || after > se.Seq+1
			}
			if rc == nil {
				continue // waits for its key
			}
			ev, w, err := n.opened(tx, &g, chain, x.e, se, pt, rc, now)
			if err != nil {
				return err
			}
			if ev != nil {
				events = append(events, *ev)
			}
			worthy = worthy || w
		}
		return nil
	})
	l.Unlock()
	if err != nil {
		return err
	}
	for _, e := range events {
		n.bus.Publish(e)
	}
	if worthy {
		if lg, ok := n.groups.get(id); ok {
			poke(lg.receipt)
		}
	}
	return nil
}

// epochKeys caches a transaction's epoch keys; nil: not held.
type epochKeys map[uint64]*group.GroupKey

// openEnvelope decrypts an envelope whose signature was checked when it
// arrived, if its epoch key is here. It returns the plaintext and the
// advanced receive chain (to be stored with the envelope), or a nil chain
// if the envelope cannot be opened (yet).
func (n *Node) openEnvelope(tx *storage.Txn, g storage.Group, keys epochKeys, e *group.Envelope, sender peer.ID) ([]byte, *group.ReceiveChain, error) {
	gk, cached := keys[e.Epoch]
	if !cached {
		kb, err := tx.GroupEpochKey(g.ID, e.Epoch)
		switch {
		case errors.Is(err, storage.ErrNotFound):
		case err != nil:
			return nil, nil, err
		default:
			k, err := group.UnmarshalGroupKey(kb)
			if err != nil {
				return nil, nil, err
			}
			gk = &k
		}
		keys[e.Epoch] = gk
	}
	if gk == nil {
		return nil, nil, nil
	}
	var rc *group.ReceiveChain
	if b, err := tx.GroupReceiveChain(g.ID, e.Epoch, sender); err == nil {
		if rc, err = group.UnmarshalReceiveChain(b); err != nil {
			return nil, nil, err
		}
	} else if errors.Is(err, storage.ErrNotFound) {
		if rc, err = group.NewReceiveChain(*gk, e.Sender); err != nil {
			return nil, nil, err
		}
	} else {
		return nil, nil, err
	}
	pt, err := rc.OpenVerified(e)
	if err != nil {
		n.log.Debug("group: envelope not opened", "group", g.ID, "sender", sender, "epoch", e.Epoch, "seq", e.Seq, "err", err)
		return nil, nil, nil
	}
	return pt, rc, nil
}

// opened stores the receive chain that opened a stored envelope and
// applies what the envelope says. It returns the event to publish and
// whether the message is one that members acknowledge with a receipt.
func (n *Node) opened(tx *storage.Txn, g *storage.Group, chain *rosterChain, e *group.Envelope, se storage.GroupEnvelope, pt []byte, rc *group.ReceiveChain, now time.Time) (*Event, bool, error) {
	cb, err := rc.MarshalBinary()
	if err != nil {
		return nil, false, err
	}
	if err := tx.PutGroupReceiveChain(g.ID, e.Epoch, se.Sender, cb); err != nil {
		return nil, false, err
	}
	var gc dmpb.GroupContent
	if err := proto.Unmarshal(pt, &gc); err != nil {
		n.log.Debug("group: undecodable content", "group", g.ID, "sender", se.Sender, "err", err)
		return nil, false, nil
	}
	return n.applyGroupContent(tx, g, chain, e, se.ID, &gc, se.Sender == n.ID(), now)
}

// openPending opens the stored envelopes of an epoch that waited for its
// key.
func (n *Node) openPending(id group.ID, epoch uint64) error {
	for {
		l := n.groups.lock(id)
		l.Lock()
		var (
			events []Event
			opened int
			more   bool
		)
		err := n.store.Update(func(tx *storage.Txn) error {
			events, opened, more = events[:0], 0, false
			g, err := getGroup(tx, id)
			if err != nil {
				return err
			}
			if g.State != storage.GroupJoined {
				return nil
			}
			chain, err := loadChain(tx, g)
			if err != nil {
				return err
			}
			es, err := tx.UnopenedGroupEnvelopes(g.ID, epoch, groupReadBatch)
			if err != nil {
				return err
			}
			more = len(es) == groupReadBatch
			now := time.Now().UTC()
			keys := epochKeys{}
			for _, se := range es {
				e, err := group.UnmarshalEnvelope(se.Data)
				if err != nil {
					continue
				}
				// Stored envelopes had their signatures checked on arrival.
				pt, rc, err := n.openEnvelope(tx, g, keys, e, se.Sender)
				if err != nil || rc == nil {
					if err != nil {
						return err
					}
					continue
				}
				if err := tx.SetGroupEnvelopeOpened(se); err != nil {
					return err
				}
				ev, _, err := n.opened(tx, &g, chain, e, se, pt, rc, now)
				if err != nil {
					return err
				}
				opened++
				if ev != nil {
					events = append(events, *ev)
				}
			}
			return nil
		})
		l.Unlock()
		if err != nil {
			return err
		}
		for _, e := range events {
			n.bus.Publish(e)
		}
		if !more || opened == 0 {
			return nil
		}
	}
}

// groupSentTime is the author's timestamp, never far in the future.
func groupSentTime(unixNano int64, received time.Time) time.Time {
	if unixNano <= 0 {
		return received
	}
	t := time.Unix(0, unixNano).UTC()
	if t.After(received.Add(time.Hour)) {
		return received
	}
	return t
}

func msgID32(b []byte) ([32]byte, bool) {
	if len(b) != 32 {
		return [32]byte{}, false
	}
	return [32]byte(b), true
}

// applyGroupContent stores what an opened envelope says: a line of the
// thread, a note on another message, a receipt, a rename. It returns the
// event to publish (nil for content that is dropped) and whether members
// acknowledge it with a receipt (everything but receipts).
func (n *Node) applyGroupContent(tx *storage.Txn, g *storage.Group, chain *rosterChain, e *group.Envelope, id [32]byte, gc *dmpb.GroupContent, outbound bool, now time.Time) (*Event, bool, error) {
	sender := e.Sender.PeerID()
	m := storage.GroupMessage{Group: g.ID, ID: id, Epoch: e.Epoch, Sender: sender, Seq: e.Seq, Sent: groupSentTime(gc.SentUnixNano, now), Outbound: outbound}
	if !outbound {
		m.Received = now
	}
	event := func(kind string) *Event {
		return &Event{Type: EventGroupMessage, Peer: sender, Group: &GroupEvent{Group: group.ID(g.ID), Epoch: e.Epoch, Message: id, Kind: kind}}
	}
	drop := func(why string) (*Event, bool, error) {
		n.log.Debug("group: content dropped", "group", g.ID, "sender", sender, "why", why)
		return nil, false, nil
	}
	putLine := func(kind string) (*Event, bool, error) {
		m.Kind = kind
		added, err := tx.PutGroupMessage(m)
		if err != nil || !added {
			return nil, false, err
		}
		return event(kind), true, nil
	}
	putNote := func(kind, value string, target [32]byte) (*Event, bool, error) {
		_, err := tx.PutGroupNote(storage.GroupNote{Group: g.ID, Target: target, Sender: sender, Kind: kind, Value: value, Sent: m.Sent, ID: id})
		if err != nil {
			return nil, false, err
		}
		return event(kind), true, nil
	}
	switch b := gc.Body.(type) {
	case *dmpb.GroupContent_Text:
		if len(b.Text.Body) == 0 || len(b.Text.Body) > n.cfg.Limits.MaxTextBytes || !utf8.ValidString(b.Text.Body) {
			return drop("text size or encoding")
		}
		m.Body = b.Text.Body
		if len(b.Text.ReplyTo) == 0 {
			return putLine(KindText)
		}
		target, ok := msgID32(b.Text.ReplyTo)
		if !ok {
			return drop("reply target")
		}
		m.ReplyTo = target
		return putLine(KindReply)
	case *dmpb.GroupContent_Reaction:
		target, ok := msgID32(b.Reaction.Target)
		if !ok || b.Reaction.Emoji == "" || len(b.Reaction.Emoji) > maxEmojiBytes || !utf8.ValidString(b.Reaction.Emoji) {
			return drop("reaction")
		}
		return putNote(storage.NoteReaction, b.Reaction.Emoji, target)
	case *dmpb.GroupContent_Event:
		if len(b.Event.Title) == 0 || len(b.Event.Title) > n.cfg.Limits.MaxTextBytes || !utf8.ValidString(b.Event.Title) || b.Event.StartUnixNano <= 0 {
			return drop("event")
		}
		m.Body, m.EventStart = b.Event.Title, time.Unix(0, b.Event.StartUnixNano).UTC()
		return putLine(KindEvent)
	case *dmpb.GroupContent_Rsvp:
		target, ok := msgID32(b.Rsvp.Event)
		answer, known := rsvpName(b.Rsvp.Answer)
		if !ok || !known {
			return drop("rsvp")
		}
		return putNote(KindRSVP, answer, target)
	case *dmpb.GroupContent_Rename:
		r := chain.at(e.Epoch)
		if r == nil || (r.Role(e.Sender) != group.RoleOwner && r.Role(e.Sender) != group.RoleAdmin) {
			return drop("rename by a member who may not")
		}
		if checkGroupName(b.Rename.Name) != nil {
			return drop("group name")
		}
		m.Body = b.Rename.Name
		if m.Sent.After(g.NameSent) || m.Sent.Equal(g.NameSent) && bytes.Compare(id[:], g.NameID[:]) > 0 {
			g.Name, g.NameSent, g.NameID, g.Updated = b.Rename.Name, m.Sent, id, now
			if err := tx.PutGroup(*g); err != nil {
				return nil, false, err
			}
		}
		return putLine(KindRename)
	case *dmpb.GroupContent_Left:
		return putLine(KindLeft)
	case *dmpb.GroupContent_Receipt:
		if outbound {
			return nil, false, nil
		}
		return n.mergeReceipt(tx, g, sender, b.Receipt, now)
	}
	return drop("empty or unknown content")
}

// maxReceiptMarks bounds the marks one receipt may carry.
const maxReceiptMarks = 4 * group.MaxMembers

// mergeReceipt raises a member's stored marks to those of its receipt.
func (n *Node) mergeReceipt(tx *storage.Txn, g *storage.Group, member peer.ID, r *dmpb.GroupReceipt, now time.Time) (*Event, bool, error) {
	if len(r.Delivered)+len(r.Read) > maxReceiptMarks {
		return nil, false, nil
	}
	old, err := tx.GroupReceipt(g.ID, member)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, false, err
	}
	old.Member, old.Updated = member, now
	var ok bool
	if old.Delivered, ok = mergeMarks(old.Delivered, r.Delivered); !ok {
		return nil, false, nil
	}
	if old.Read, ok = mergeMarks(old.Read, r.Read); !ok {
		return nil, false, nil
	}
	if err := tx.PutGroupReceipt(g.ID, old); err != nil {
		return nil, false, err
	}
	return &Event{Type: EventGroupReceipt, Peer: member, Group: &GroupEvent{Group: group.ID(g.ID), Member: member}}, false, nil
}

// mergeMarks raises marks to the wire marks; false if one is malformed.
func mergeMarks(marks []storage.GroupMark, wire []*dmpb.GroupMark) ([]storage.GroupMark, bool) {
	for _, w := range wire {
		pk, err := keys.PublicKeyFromBytes(w.Sender)
		if err != nil {
			return nil, false
		}
		p := pk.PeerID()
		i := slices.IndexFunc(marks, func(m storage.GroupMark) bool { return m.Epoch == w.Epoch && m.Sender == p })
		switch {
		case i < 0:
			marks = append(marks, storage.GroupMark{Epoch: w.Epoch, Sender: p, Next: w.Next})
		case marks[i].Next < w.Next:
			marks[i].Next = w.Next
		}
	}
	return marks, true
}

// receiptMarks are the marks a receipt carries: this node's, for the two
// newest epochs, of every sender but itself.
func (n *Node) receiptMarks(tx *storage.Txn, g storage.Group, latest uint64) ([]storage.GroupMark, error) {
	all, err := tx.GroupMarks(g.ID)
	if err != nil {
		return nil, err
	}
	var out []storage.GroupMark
	for _, m := range all {
		if m.Sender != n.ID() && m.Epoch+1 >= latest && m.Next > 0 {
			out = append(out, m)
		}
	}
	return out, nil
}

func marksToWire(ms []storage.GroupMark) []*dmpb.GroupMark {
	var out []*dmpb.GroupMark
	for _, m := range ms {
		pk, err := keys.PublicKeyFromPeerID(m.Sender)
		if err != nil {
			continue
		}
		out = append(out, &dmpb.GroupMark{Epoch: m.Epoch, Sender: pk[:], Next: m.Next})
	}
	return out
}

// publishReceipt tells the group how far this node has received and read.
func (n *Node) publishReceipt(lg *liveGroup) error {
	var r *dmpb.GroupReceipt
	err := n.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, lg.id)
		if err != nil {
			return err
		}
		delivered, err := n.receiptMarks(tx, g, lg.view.Load().latest)
		if err != nil {
			return err
		}
		own, err := tx.GroupReceipt(g.ID, n.ID())
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		r = &dmpb.GroupReceipt{Delivered: marksToWire(delivered), Read: marksToWire(own.Read)}
		return nil
	})
	if err != nil {
		return err
	}
	if len(r.Delivered) == 0 && len(r.Read) == 0 {
		return nil
	}
	data, err := n.sealGroup(lg, &dmpb.GroupContent{Body: &dmpb.GroupContent_Receipt{Receipt: r}})
	if err != nil {
		return err
	}
	lg.enqueue(data)
	return nil
}

// MarkGroupRead marks everything received in the group read, and tells the
// group (in the next receipt, sent at once).
func (n *Node) MarkGroupRead(id group.ID) error {
	lg, live := n.groups.get(id)
	err := n.store.Update(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		ms, err := tx.GroupMessages(g.ID, 1, time.Time{})
		if err != nil {
			return err
		}
		if len(ms) > 0 && ms[0].Sent.After(g.LastRead) {
			g.LastRead, g.Updated = ms[0].Sent, time.Now().UTC()
			if err := tx.PutGroup(g); err != nil {
				return err
			}
		}
		if !live {
			return nil
		}
		marks, err := n.receiptMarks(tx, g, lg.view.Load().latest)
		if err != nil {
			return err
		}
		own, err := tx.GroupReceipt(g.ID, n.ID())
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		own.Member, own.Read, own.Updated = n.ID(), marks, time.Now().UTC()
		return tx.PutGroupReceipt(g.ID, own)
	})
	if err != nil {
		return err
	}
	if live {
		if err := n.publishReceipt(lg); err != nil && !errors.Is(err, ErrKeyPending) {
			return err
		}
	}
	return nil
}

// GroupMessages returns up to limit lines of the group's thread, newest
// first, sent before before (zero: from the newest), with their reactions,
// RSVPs and receipts.
func (n *Node) GroupMessages(id group.ID, limit int, before time.Time) ([]GroupMessage, error) {
	if limit <= 0 {
		limit = 50
	}
	return n.groupMessages(id, func(tx *storage.Txn) ([]storage.GroupMessage, error) {
		return tx.GroupMessages(sid(id), limit, before)
	})
}

func (n *Node) groupMessages(id group.ID, list func(tx *storage.Txn) ([]storage.GroupMessage, error)) ([]GroupMessage, error) {
	var out []GroupMessage
	err := n.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		ms, err := list(tx)
		if err != nil {
			return err
		}
		receipts, err := tx.GroupReceipts(sid(id))
		if err != nil {
			return err
		}
		for _, m := range ms {
			gm := GroupMessage{GroupMessage: m}
			notes, err := tx.GroupNotes(sid(id), m.ID)
			if err != nil {
				return err
			}
			for _, nt := range notes {
				switch nt.Kind {
				case storage.NoteReaction:
					gm.Reactions = append(gm.Reactions, GroupReaction{Peer: nt.Sender, Emoji: nt.Value})
				case KindRSVP:
					gm.RSVPs = append(gm.RSVPs, GroupRSVP{Peer: nt.Sender, Answer: nt.Value})
				}
			}
			if !m.Outbound { // this node has it, and may have read it
				gm.DeliveredTo = append(gm.DeliveredTo, n.ID())
				if !m.Sent.After(g.LastRead) {
					gm.ReadBy = append(gm.ReadBy, n.ID())
				}
			}
			for _, r := range receipts {
				if r.Member == m.Sender || r.Member == n.ID() {
					continue
				}
				if markCovers(r.Delivered, m) {
					gm.DeliveredTo = append(gm.DeliveredTo, r.Member)
				}
				if markCovers(r.Read, m) {
					gm.ReadBy = append(gm.ReadBy, r.Member)
				}
			}
			out = append(out, gm)
		}
		return nil
	})
	return out, err
}

func markCovers(marks []storage.GroupMark, m storage.GroupMessage) bool {
	for _, k := range marks {
		if k.Epoch == m.Epoch && k.Sender == m.Sender && k.Next > m.Seq {
			return true
		}
	}
	return false
}
