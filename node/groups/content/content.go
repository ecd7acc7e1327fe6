// Package content is what a private group's messages say once opened, and
// what storing them does: the message kinds and RSVP answers, the limits
// on names, texts and reactions, and Apply, which stores an opened
// envelope's content (a line of the thread, a note on another message, a
// rename, a member's receipt or profile name) inside the caller's
// transaction and returns the event to announce.
package content

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"
	"unicode/utf8"

	"github.com/backchannel/backchannel/crypto/safename"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/storage"
)

// Group message kinds, as stored and shown. Reactions and RSVPs are not
// lines of the thread: they hang on their target.
const (
	KindText     = "text"     // a text (the 1:1 kind of the same name)
	KindReply    = "reply"    // a text replying to another message
	KindReaction = "reaction" // an emoji on another message
	KindEvent    = "event"    // an event with a title and a start time; members RSVP
	KindRSVP     = "rsvp"     // yes, no or maybe to an event
	KindRename   = "rename"   // an owner or admin renamed the group
	KindLeft     = "left"     // a member left the group
	// KindProfile is a member telling the group its profile name: not a
	// line of the thread; the event that its name changed says it.
	KindProfile = "profile"
)

// RSVP answers.
const (
	RSVPYes   = "yes"
	RSVPNo    = "no"
	RSVPMaybe = "maybe"
)

const (
	// MaxNameBytes bounds a group's name.
	MaxNameBytes = 100
	// MaxEmojiBytes bounds a reaction.
	MaxEmojiBytes = 64
)

// CheckName checks a group's name: 1 to MaxNameBytes bytes of UTF-8 with no
// control character and no bidirectional control (crypto/safename). It holds
// for a name we give and for one received (an invitation, a rename), as for
// room names.
func CheckName(name string) error {
	if name == "" || len(name) > MaxNameBytes || !utf8.ValidString(name) {
		return fmt.Errorf("%w: a group name is 1 to %d bytes of UTF-8", errs.ErrInvalidGroup, MaxNameBytes)
	}
	if err := safename.Check(name); err != nil {
		return fmt.Errorf("%w: group %w", errs.ErrInvalidGroup, err)
	}
	return nil
}

// MaxProfileNameBytes bounds the name a member announces: a profile name's
// bound (node/contacts.MaxNameBytes; groups do not import the 1:1 code, a
// node test holds the two equal).
const MaxProfileNameBytes = 64

// CheckProfileName checks the name a member announces in a group by the
// profile names' rule (node/contacts.CheckName): 1 to MaxProfileNameBytes
// bytes, crypto/safename's rule (UTF-8, no control or bidirectional
// character). It holds for the name we send and for one received.
func CheckProfileName(name string) error {
	if name == "" || len(name) > MaxProfileNameBytes {
		return fmt.Errorf("%w: a name is 1 to %d bytes", errs.ErrInvalidInput, MaxProfileNameBytes)
	}
	return safename.Check(name)
}

var rsvpAnswers = map[string]groupspb.GroupRsvp_Answer{RSVPYes: groupspb.GroupRsvp_YES, RSVPNo: groupspb.GroupRsvp_NO, RSVPMaybe: groupspb.GroupRsvp_MAYBE}

// RSVPAnswer is the wire answer of an RSVP named yes, no or maybe.
func RSVPAnswer(name string) (groupspb.GroupRsvp_Answer, bool) {
	a, ok := rsvpAnswers[name]
	return a, ok
}

func rsvpName(a groupspb.GroupRsvp_Answer) (string, bool) {
	for name, x := range rsvpAnswers {
		if x == a {
			return name, true
		}
	}
	return "", false
}

// SentTime is the author's timestamp, never far in the future.
func SentTime(unixNano int64, received time.Time) time.Time {
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

// Limits is what an Apply accepts, and where it logs what it drops.
type Limits struct {
	MaxTextBytes int // a text or an event's title
	Log          *slog.Logger
}

// Apply stores what an opened envelope says, in tx: a line of the thread,
// a note on another message, a receipt, a rename, a member's profile name.
// It returns the event to publish (nil for content that is dropped) and
// whether members acknowledge it with a receipt (everything but receipts
// and profile names). outbound is set for our own envelopes.
func Apply(tx *storage.Txn, g *storage.Group, chain *rosterchain.Chain, e *group.Envelope, id [32]byte, gc *groupspb.GroupContent, outbound bool, now time.Time, lim Limits) (*event.Event, bool, error) {
	sender := e.Sender.PeerID()
	a := &applied{lim: lim, tx: tx, g: g, e: e, now: now,
		m: storage.GroupMessage{Group: g.ID, ID: id, Epoch: e.Epoch, Sender: sender, Seq: e.Seq, Sent: SentTime(gc.SentUnixNano, now), Outbound: outbound}}
	if !outbound {
		a.m.Received = now
	}
	switch b := gc.Body.(type) {
	case *groupspb.GroupContent_Text:
		return a.text(b.Text)
	case *groupspb.GroupContent_Reaction:
		target, ok := msgID32(b.Reaction.Target)
		if !ok || b.Reaction.Emoji == "" || len(b.Reaction.Emoji) > MaxEmojiBytes || !utf8.ValidString(b.Reaction.Emoji) {
			return a.drop("reaction")
		}
		return a.note(storage.NoteReaction, b.Reaction.Emoji, target)
	case *groupspb.GroupContent_Event:
		return a.plan(b.Event)
	case *groupspb.GroupContent_Rsvp:
		target, ok := msgID32(b.Rsvp.Event)
		answer, known := rsvpName(b.Rsvp.Answer)
		if !ok || !known {
			return a.drop("rsvp")
		}
		return a.note(KindRSVP, answer, target)
	case *groupspb.GroupContent_Rename:
		return a.rename(chain, b.Rename)
	case *groupspb.GroupContent_Left:
		return a.line(KindLeft)
	case *groupspb.GroupContent_Profile:
		return a.profile(chain, b.Profile)
	case *groupspb.GroupContent_Receipt:
		if outbound {
			return nil, false, nil
		}
		return mergeReceipt(tx, g, sender, b.Receipt, now)
	}
	return a.drop("empty or unknown content")
}

// applied is one opened envelope's content being stored.
type applied struct {
	lim Limits
	tx  *storage.Txn
	g   *storage.Group
	e   *group.Envelope
	m   storage.GroupMessage // the line it makes, if it makes one
	now time.Time
}

func (a *applied) eventOf(kind string) *event.Event {
	return &event.Event{Type: event.GroupMessage, Peer: a.m.Sender, Group: &event.Group{Group: group.ID(a.g.ID), Epoch: a.e.Epoch, Message: a.m.ID, Kind: kind}}
}

func (a *applied) drop(why string) (*event.Event, bool, error) {
	a.lim.Log.Debug("group: content dropped", "group", a.g.ID, "sender", a.m.Sender, "why", why)
	return nil, false, nil
}

// line stores the message as a line of the thread.
func (a *applied) line(kind string) (*event.Event, bool, error) {
	a.m.Kind = kind
	added, err := a.tx.PutGroupMessage(a.m)
	if err != nil || !added {
		return nil, false, err
	}
	return a.eventOf(kind), true, nil
}

// note stores the message as a note on target (a reaction, an RSVP).
func (a *applied) note(kind, value string, target [32]byte) (*event.Event, bool, error) {
	_, err := a.tx.PutGroupNote(storage.GroupNote{Group: a.g.ID, Target: target, Sender: a.m.Sender, Kind: kind, Value: value, Sent: a.m.Sent, ID: a.m.ID})
	if err != nil {
		return nil, false, err
	}
	return a.eventOf(kind), true, nil
}

func (a *applied) validText(t string) bool {
	return len(t) > 0 && len(t) <= a.lim.MaxTextBytes && utf8.ValidString(t)
}

func (a *applied) text(t *groupspb.GroupText) (*event.Event, bool, error) {
	if !a.validText(t.Body) {
		return a.drop("text size or encoding")
	}
	a.m.Body = t.Body
	if len(t.ReplyTo) == 0 {
		return a.line(KindText)
	}
	target, ok := msgID32(t.ReplyTo)
	if !ok {
		return a.drop("reply target")
	}
	a.m.ReplyTo = target
	return a.line(KindReply)
}

func (a *applied) plan(ev *groupspb.GroupEvent) (*event.Event, bool, error) {
	if !a.validText(ev.Title) || ev.StartUnixNano <= 0 {
		return a.drop("event")
	}
	a.m.Body, a.m.EventStart = ev.Title, time.Unix(0, ev.StartUnixNano).UTC()
	return a.line(KindEvent)
}

// rename counts from an owner or admin of the envelope's epoch; the last
// writer wins by sent time, then ID.
func (a *applied) rename(chain *rosterchain.Chain, r *groupspb.GroupRename) (*event.Event, bool, error) {
	ro := chain.At(a.e.Epoch)
	if ro == nil || (ro.Role(a.e.Sender) != group.RoleOwner && ro.Role(a.e.Sender) != group.RoleAdmin) {
		return a.drop("rename by a member who may not")
	}
	if CheckName(r.Name) != nil {
		return a.drop("group name")
	}
	a.m.Body = r.Name
	g, id := a.g, a.m.ID
	if later(a.m.Sent, id, g.NameSent, g.NameID) {
		g.Name, g.NameSent, g.NameID, g.Updated = r.Name, a.m.Sent, id, a.now
		if err := a.tx.PutGroup(*g); err != nil {
			return nil, false, err
		}
	}
	return a.line(KindRename)
}

// later reports whether the message sent at sent with ID id comes after
// the one sent at than with ID thanID: last writer wins, ties by ID.
func later(sent time.Time, id [32]byte, than time.Time, thanID [32]byte) bool {
	return sent.After(than) || sent.Equal(than) && bytes.Compare(id[:], thanID[:]) > 0
}

// profile keeps the name a member of the newest roster announced, if it is
// later than the one held (by sent time, then ID), and forgets the names of
// those no longer members, so that a group holds at most one name per
// member. It is no line of the thread and asks for no receipt; an event
// says when a member's name changed.
func (a *applied) profile(chain *rosterchain.Chain, p *groupspb.GroupProfile) (*event.Event, bool, error) {
	if CheckProfileName(p.Name) != nil {
		return a.drop("profile name")
	}
	latest := chain.Latest()
	if !latest.IsMember(a.e.Sender) {
		return a.drop("profile of a member no longer in the group")
	}
	old, err := a.tx.GroupMemberName(a.g.ID, a.m.Sender)
	switch {
	case errors.Is(err, storage.ErrNotFound):
	case err != nil:
		return nil, false, err
	case !later(a.m.Sent, a.m.ID, old.Sent, old.ID):
		return nil, false, nil
	}
	n := storage.GroupMemberName{Member: a.m.Sender, Name: p.Name, Sent: a.m.Sent, ID: a.m.ID, Epoch: a.e.Epoch}
	if err := a.tx.PutGroupMemberName(a.g.ID, n); err != nil {
		return nil, false, err
	}
	if err := ForgetFormerNames(a.tx, a.g.ID, latest); err != nil {
		return nil, false, err
	}
	if old.Name == p.Name {
		return nil, false, nil // the same name again, in a later epoch
	}
	return &event.Event{Type: event.GroupMember, Peer: a.m.Sender,
		Group: &event.Group{Group: group.ID(a.g.ID), Epoch: a.e.Epoch, Kind: KindProfile, Member: a.m.Sender}}, false, nil
}

// ForgetFormerNames deletes the names announced by those who are not
// members of roster r.
func ForgetFormerNames(tx *storage.Txn, id storage.GroupID, r *group.Roster) error {
	ns, err := tx.GroupMemberNames(id)
	if err != nil {
		return err
	}
	for _, n := range ns {
		if pk, err := keys.PublicKeyFromPeerID(n.Member); err == nil && r.IsMember(pk) {
			continue
		}
		if err := tx.DeleteGroupMemberName(id, n.Member); err != nil {
			return err
		}
	}
	return nil
}

// maxReceiptMarks bounds the marks one receipt may carry.
const maxReceiptMarks = 4 * group.MaxMembers

// mergeReceipt raises a member's stored marks to those of its receipt.
func mergeReceipt(tx *storage.Txn, g *storage.Group, member peer.ID, r *groupspb.GroupReceipt, now time.Time) (*event.Event, bool, error) {
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
	return &event.Event{Type: event.GroupReceipt, Peer: member, Group: &event.Group{Group: group.ID(g.ID), Member: member}}, false, nil
}

// mergeMarks raises marks to the wire marks; false if one is malformed.
func mergeMarks(marks []storage.GroupMark, wire []*groupspb.GroupMark) ([]storage.GroupMark, bool) {
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

// Outgoing is a group message the user sends.
type Outgoing struct {
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

// Encode builds the plaintext of an outgoing message; a text or an event's
// title is at most maxText bytes.
func Encode(out Outgoing, maxText int) (*groupspb.GroupContent, error) {
	if out.Kind == "" {
		out.Kind = KindText
		if out.ReplyTo != ([32]byte{}) {
			out.Kind = KindReply
		}
	}
	var zero [32]byte
	text := func() error {
		if out.Body == "" || len(out.Body) > maxText || !utf8.ValidString(out.Body) {
			return fmt.Errorf("%w: a text is 1 to %d bytes of UTF-8", errs.ErrTooLarge, maxText)
		}
		return nil
	}
	switch out.Kind {
	case KindText, KindReply:
		if err := text(); err != nil {
			return nil, err
		}
		t := &groupspb.GroupText{Body: out.Body}
		if out.ReplyTo != zero {
			t.ReplyTo = out.ReplyTo[:]
		}
		return &groupspb.GroupContent{Body: &groupspb.GroupContent_Text{Text: t}}, nil
	case KindReaction:
		if out.ReplyTo == zero || out.Body == "" || len(out.Body) > MaxEmojiBytes || !utf8.ValidString(out.Body) {
			return nil, fmt.Errorf("%w: a reaction needs a target and a short emoji", errs.ErrInvalidGroup)
		}
		return &groupspb.GroupContent{Body: &groupspb.GroupContent_Reaction{Reaction: &groupspb.GroupReaction{Target: out.ReplyTo[:], Emoji: out.Body}}}, nil
	case KindEvent:
		if err := text(); err != nil {
			return nil, err
		}
		if out.Start.IsZero() || out.Start.Before(time.Unix(0, 0)) {
			return nil, fmt.Errorf("%w: an event needs a start time", errs.ErrInvalidGroup)
		}
		return &groupspb.GroupContent{Body: &groupspb.GroupContent_Event{Event: &groupspb.GroupEvent{Title: out.Body, StartUnixNano: out.Start.UnixNano()}}}, nil
	case KindRSVP:
		a, ok := RSVPAnswer(out.Body)
		if !ok || out.ReplyTo == zero {
			return nil, fmt.Errorf("%w: an RSVP names an event and answers yes, no or maybe", errs.ErrInvalidGroup)
		}
		return &groupspb.GroupContent{Body: &groupspb.GroupContent_Rsvp{Rsvp: &groupspb.GroupRsvp{Event: out.ReplyTo[:], Answer: a}}}, nil
	}
	return nil, fmt.Errorf("%w: unknown message kind %q", errs.ErrInvalidGroup, out.Kind)
}

// Covers reports whether marks pass message m: its member has received
// (or read) it.
func Covers(marks []storage.GroupMark, m storage.GroupMessage) bool {
	for _, k := range marks {
		if k.Epoch == m.Epoch && k.Sender == m.Sender && k.Next > m.Seq {
			return true
		}
	}
	return false
}

// MessageSize is how many bytes a text message with body text takes on the
// wire (its sealed, signed envelope).
func MessageSize(text string) (int, error) {
	id, _ := group.NewGroup()
	sc, err := group.NewSendChain(group.GroupKey{Group: id, Epoch: 1, Key: group.NewEpochKey()}, keys.GeneratePrivateKey())
	if err != nil {
		return 0, err
	}
	pt, err := proto.Marshal(&groupspb.GroupContent{SentUnixNano: time.Now().UnixNano(),
		Body: &groupspb.GroupContent_Text{Text: &groupspb.GroupText{Body: text}}})
	if err != nil {
		return 0, err
	}
	env, err := sc.Seal(pt)
	if err != nil {
		return 0, err
	}
	data, err := env.MarshalBinary()
	return len(data), err
}
