package roomstate

import (
	"fmt"
	"slices"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

// State is the state of one live room, computed from its verified messages.
// The zero value is not usable: call New. A State is not safe for concurrent
// use; its owner serialises calls.
//
// Apply only records facts (who sent what, when); every judgement that
// depends on other messages (is this sender a moderator at that time, is that
// message hidden, is that peer muted) is made by the queries, over everything
// recorded. That is what makes the result independent of the order and
// multiplicity of Apply calls, within the state's bounds: past
// DefaultMaxMessages or DefaultMaxBytes (SetLimits) it forgets the messages
// applied first, and answers as a state given only the rest would.
type State struct {
	desc room.Descriptor

	seen      map[room.MessageID]struct{}
	chats     map[room.MessageID]chatRecord
	questions map[room.MessageID]questionRecord
	// upvotes holds, per question ID, the timestamps of each voter's upvotes
	// (a peer may send several; it counts once if any counts).
	upvotes map[room.MessageID]map[keys.PublicKey][]time.Time
	// reactions holds, per target and emoji, each reactor's timestamps.
	reactions map[room.MessageID]map[string]map[keys.PublicKey][]time.Time
	answered  map[room.MessageID][]action // by question
	hides     map[room.MessageID][]action // by hidden message
	pins      []pinRecord
	mutes     map[keys.PublicKey][]muteRecord // by muted peer
	grants    map[keys.PublicKey][]room.RoleGrant
	presence  map[keys.PublicKey]presenceRecord // the latest per sender
	// tallied holds, per target and emoji ("" for upvotes), the counts
	// tallies gave; censuses the tallies that told the peers present.
	tallied  map[room.MessageID]map[string][]tallyRecord
	censuses []tallyRecord

	// Every message recorded but role grants, oldest applied first: what
	// the bounds evict (see SetLimits).
	order       []applied
	head        int // order[head:] are held
	bytes       int // estimated, of the messages in order[head:]
	maxMessages int
	maxBytes    int
}

// applied is a recorded message, as much of it as forgetting it takes.
type applied struct {
	id     room.MessageID
	sender keys.PublicKey
	at     time.Time
	body   any // decoded, as recorded
	size   int
}

// Bounds of a room's state (SetLimits changes them). Anyone may speak in a
// room, with a fresh key per message if it likes, so the sender's rate
// limit does not bound what a room brings; the store keeps at most
// 20,000 messages of a room, and so does its state in memory, and at most
// DefaultMaxBytes of them. Past either, the messages applied first are
// forgotten, as the store's pruning forgets the oldest.
const (
	DefaultMaxMessages = 20_000
	DefaultMaxBytes    = 32 << 20
	// messageOverhead is what a recorded message costs besides its body
	// (its ID in seen, its record and map entries), roughly.
	messageOverhead = 256
)

// action is a moderation message: who sent it, when, and its ID for ties.
type action struct {
	sender keys.PublicKey
	at     time.Time
	id     room.MessageID
}

type chatRecord struct {
	sender keys.PublicKey
	at     time.Time
	body   ChatBody
}

type questionRecord struct {
	sender keys.PublicKey
	at     time.Time
	body   QuestionBody
}

type pinRecord struct {
	action
	target room.MessageID // zero: unpin
}

// tallyRecord is one count of a tally, or a tally's census.
type tallyRecord struct {
	action
	count uint32
}

type muteRecord struct {
	action
	until time.Time
}

type presenceRecord struct {
	at   time.Time
	id   room.MessageID
	body PresenceBody
}

// New returns the empty state of the room d describes. The caller has
// verified d (d.Verify); its Host is the room's host.
func New(d room.Descriptor) *State {
	return &State{
		desc:      d,
		seen:      make(map[room.MessageID]struct{}),
		chats:     make(map[room.MessageID]chatRecord),
		questions: make(map[room.MessageID]questionRecord),
		upvotes:   make(map[room.MessageID]map[keys.PublicKey][]time.Time),
		reactions: make(map[room.MessageID]map[string]map[keys.PublicKey][]time.Time),
		answered:  make(map[room.MessageID][]action),
		hides:     make(map[room.MessageID][]action),
		mutes:     make(map[keys.PublicKey][]muteRecord),
		grants:    make(map[keys.PublicKey][]room.RoleGrant),
		presence:  make(map[keys.PublicKey]presenceRecord),
		tallied:   make(map[room.MessageID]map[string][]tallyRecord),

		maxMessages: DefaultMaxMessages,
		maxBytes:    DefaultMaxBytes,
	}
}

// SetLimits bounds the messages the state holds, in count and in estimated
// bytes (a body's length plus a fixed overhead each), forgetting the
// messages applied first past them. Role grants are neither counted nor
// forgotten: only the room's host signs them.
func (s *State) SetLimits(messages, bytes int) {
	s.maxMessages, s.maxBytes = max(messages, 1), max(bytes, 1)
	s.trim()
}

// Descriptor returns the descriptor the state was made with.
func (s *State) Descriptor() room.Descriptor { return s.desc }

// Len returns how many distinct messages the state has applied.
func (s *State) Len() int { return len(s.seen) }

// Has reports whether the message with this ID has been applied.
func (s *State) Has(id room.MessageID) bool {
	_, ok := s.seen[id]
	return ok
}

// Apply records m, a message of this room whose signature the caller has
// verified (m.Verify). Applying a message whose ID was applied before is a
// no-op, and the queries give the same results for any order of the same
// set of messages. Apply does not take the time: what a message does depends
// only on the messages, never on when they arrive.
//
// Apply rejects, and does not record, a message of another room
// (ErrWrongRoom), of an unknown kind (ErrUnknownKind), whose body does not
// decode (ErrBadBody), or a role grant that the room's host did not sign
// for this room (ErrBadGrant). It records every other message, including
// moderation from peers that are not moderators (yet): whether an action
// counts is decided when the state is queried, against the grants known
// then and the action's own timestamp. The rules, precisely:
//
//   - A moderation message (answered, pin, hide, mute) counts if its sender
//     is the host, or holds a moderator grant whose [IssuedAt, ExpiresAt)
//     covers the message's Timestamp. A grant that arrives later makes
//     earlier-received actions count; an expired grant stops counting for
//     actions after its expiry but not for those before.
//   - A role grant counts if the host signed it for this room, whoever
//     carried it: the signature, not the carrier, is the authority.
//   - A hide hides its target whenever the target arrives, before or after.
//   - A mute of peer P sent at T until U makes P muted at every time in
//     [T, U). P's chat lines, questions, upvotes and reactions whose
//     Timestamp is in that span are left out of every query. The host cannot
//     be muted; moderation and presence are never left out because of a mute.
//   - An upvote counts once per peer per question (whatever number of
//     upvote messages), once the question is known and if the vote was not
//     sent while the voter was muted. Askers may upvote their own question;
//     the vote counts like any other.
//   - The pinned message is the target of the latest counting pin, by
//     Timestamp then message ID; a pin of the zero ID unpins.
//   - Presence keeps each sender's latest presence message, by Timestamp
//     then message ID.
//
// Timestamps are the sender's claim. Checking that they are fresh, and
// rate limits, is the topic validator's work (see Allowed), not Apply's.
func (s *State) Apply(m room.Message) error { return s.ApplyID(m, m.ID()) }

// ApplyID is Apply for a message whose ID the caller has computed already
// (the node has it from GossipSub, whose message ID for a room topic is
// m.ID()): id must be m.ID().
func (s *State) ApplyID(m room.Message, id room.MessageID) error {
	if m.Room != s.desc.Room {
		return fmt.Errorf("%w: apply: message for %s in room %s", ErrWrongRoom, m.Room, s.desc.Room)
	}
	p, err := decodeBody(m)
	if err != nil {
		return err
	}
	if _, ok := s.seen[id]; ok {
		return nil
	}
	if g, ok := p.(room.RoleGrant); ok {
		// Verified at its own issue time: the signature and room binding are
		// what Apply checks; whether the grant holds is a question of time
		// that each query asks.
		if err := g.Verify(s.desc.Host, s.desc.Room, g.IssuedAt); err != nil {
			return fmt.Errorf("%w: %w", ErrBadGrant, err)
		}
	}
	s.seen[id] = struct{}{}
	act := action{sender: m.Sender, at: m.Timestamp, id: id}
	switch b := p.(type) {
	case ChatBody:
		s.chats[id] = chatRecord{sender: m.Sender, at: m.Timestamp, body: b}
	case QuestionBody:
		s.questions[id] = questionRecord{sender: m.Sender, at: m.Timestamp, body: b}
	case upvote:
		votes := s.upvotes[b.question]
		if votes == nil {
			votes = make(map[keys.PublicKey][]time.Time)
			s.upvotes[b.question] = votes
		}
		votes[m.Sender] = append(votes[m.Sender], m.Timestamp)
	case answered:
		s.answered[b.question] = append(s.answered[b.question], act)
	case pin:
		s.pins = append(s.pins, pinRecord{action: act, target: b.target})
	case hide:
		s.hides[b.target] = append(s.hides[b.target], act)
	case ReactionBody:
		byEmoji := s.reactions[b.Target]
		if byEmoji == nil {
			byEmoji = make(map[string]map[keys.PublicKey][]time.Time)
			s.reactions[b.Target] = byEmoji
		}
		who := byEmoji[b.Emoji]
		if who == nil {
			who = make(map[keys.PublicKey][]time.Time)
			byEmoji[b.Emoji] = who
		}
		who[m.Sender] = append(who[m.Sender], m.Timestamp)
	case PresenceBody:
		rec := presenceRecord{at: m.Timestamp, id: id, body: b}
		if old, ok := s.presence[m.Sender]; !ok || later(rec.at, rec.id, old.at, old.id) {
			s.presence[m.Sender] = rec
		}
	case room.RoleGrant:
		s.grants[b.Grantee] = append(s.grants[b.Grantee], b)
	case MuteBody:
		s.mutes[b.Peer] = append(s.mutes[b.Peer], muteRecord{action: act, until: b.Until})
	case TallyBody:
		if b.Present > 0 {
			s.censuses = append(s.censuses, tallyRecord{action: act, count: b.Present})
		}
		for _, c := range b.Counts {
			byEmoji := s.tallied[c.Target]
			if byEmoji == nil {
				byEmoji = make(map[string][]tallyRecord)
				s.tallied[c.Target] = byEmoji
			}
			byEmoji[c.Emoji] = append(byEmoji[c.Emoji], tallyRecord{action: act, count: c.Count})
		}
	}
	if _, grant := p.(room.RoleGrant); !grant {
		s.order = append(s.order, applied{id: id, sender: m.Sender, at: m.Timestamp, body: p, size: len(m.Body) + messageOverhead})
		s.bytes += len(m.Body) + messageOverhead
		s.trim()
	}
	return nil
}

// trim forgets the messages applied first until the state is within its
// bounds.
func (s *State) trim() {
	for held := len(s.order) - s.head; held > 0 && (held > s.maxMessages || s.bytes > s.maxBytes); held-- {
		a := s.order[s.head]
		s.order[s.head] = applied{}
		s.head++
		s.bytes -= a.size
		s.forget(a)
	}
	if s.head > len(s.order)/2 {
		s.order = append(s.order[:0], s.order[s.head:]...)
		s.head = 0
	}
}

// forget undoes what ApplyID recorded of a.
func (s *State) forget(a applied) {
	delete(s.seen, a.id)
	byID := func(x action) bool { return x.id == a.id }
	switch b := a.body.(type) {
	case ChatBody:
		delete(s.chats, a.id)
	case QuestionBody:
		delete(s.questions, a.id)
	case upvote:
		forgetTime(s.upvotes, b.question, a.sender, a.at)
	case answered:
		deleteFrom(s.answered, b.question, byID)
	case pin:
		s.pins = slices.DeleteFunc(s.pins, func(p pinRecord) bool { return p.id == a.id })
	case hide:
		deleteFrom(s.hides, b.target, byID)
	case ReactionBody:
		if byEmoji := s.reactions[b.Target]; byEmoji != nil {
			forgetTime(byEmoji, b.Emoji, a.sender, a.at)
			if len(byEmoji) == 0 {
				delete(s.reactions, b.Target)
			}
		}
	case PresenceBody:
		if s.presence[a.sender].id == a.id {
			delete(s.presence, a.sender)
		}
	case MuteBody:
		deleteFrom(s.mutes, b.Peer, func(m muteRecord) bool { return m.id == a.id })
	case TallyBody:
		byTally := func(t tallyRecord) bool { return t.id == a.id }
		s.censuses = slices.DeleteFunc(s.censuses, byTally)
		for _, c := range b.Counts {
			if byEmoji := s.tallied[c.Target]; byEmoji != nil {
				deleteFrom(byEmoji, c.Emoji, byTally)
				if len(byEmoji) == 0 {
					delete(s.tallied, c.Target)
				}
			}
		}
	}
}

// forgetTime removes one of sender's times t under k in m, and what that
// leaves empty.
func forgetTime[K comparable](m map[K]map[keys.PublicKey][]time.Time, k K, sender keys.PublicKey, t time.Time) {
	who := m[k]
	if i := slices.IndexFunc(who[sender], t.Equal); i >= 0 {
		who[sender] = slices.Delete(who[sender], i, i+1)
	}
	if len(who[sender]) == 0 {
		delete(who, sender)
	}
	if len(who) == 0 {
		delete(m, k)
	}
}

// deleteFrom removes from m[k] what del matches, and m[k] once empty.
func deleteFrom[K comparable, V any](m map[K][]V, k K, del func(V) bool) {
	if m[k] = slices.DeleteFunc(m[k], del); len(m[k]) == 0 {
		delete(m, k)
	}
}

// later reports whether (t1, id1) sorts after (t2, id2).
func later(t1 time.Time, id1 room.MessageID, t2 time.Time, id2 room.MessageID) bool {
	if !t1.Equal(t2) {
		return t1.After(t2)
	}
	return string(id1[:]) > string(id2[:])
}
