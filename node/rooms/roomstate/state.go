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
// It also takes ballots (ApplyBallot): upvotes and reactions that
// listeners of a large room hand to the host rather than publish. They are
// recorded as their voters' votes, with bounds of their own.
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

	// msgs holds every message recorded but role grants, oldest applied
	// first: what the bounds evict (see SetLimits). ballots holds the
	// ballots, bounded apart (see SetBallotLimits), so that a host's
	// ballots never push the room's messages out; ballotIDs are theirs.
	msgs      window
	ballots   window
	ballotIDs map[room.MessageID]struct{}
}

// window is what a state holds of one stream (messages, or ballots),
// oldest applied first, within a count and an estimate of bytes.
type window struct {
	order    []applied
	head     int // order[head:] are held
	bytes    int // estimated, of the entries in order[head:]
	maxCount int
	maxBytes int
}

// push adds a and returns what the bounds then evict, oldest first.
func (w *window) push(a applied) []applied {
	w.order = append(w.order, a)
	w.bytes += a.size
	return w.trim()
}

// trim evicts the entries applied first until the window is within its
// bounds, and returns them.
func (w *window) trim() []applied {
	var out []applied
	for held := len(w.order) - w.head; held > 0 && (held > w.maxCount || w.bytes > w.maxBytes); held-- {
		a := w.order[w.head]
		w.order[w.head] = applied{}
		w.head++
		w.bytes -= a.size
		out = append(out, a)
	}
	if w.head > len(w.order)/2 {
		w.order = append(w.order[:0], w.order[w.head:]...)
		w.head = 0
	}
	return out
}

// applied is a recorded message or ballot, as much of it as forgetting it
// takes.
type applied struct {
	id     room.MessageID
	sender keys.PublicKey // a ballot's voter
	at     time.Time
	body   any // decoded, as recorded
	size   int
	ballot bool
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

// Bounds of a room's ballots (SetBallotLimits changes them): as many as
// the host's store keeps of a room (node/rooms), some 50 MiB at most.
// Past either, the ballots applied first are forgotten.
const (
	DefaultMaxBallots     = 200_000
	DefaultMaxBallotBytes = 64 << 20
	// ballotOverhead is what a recorded ballot costs besides its emoji
	// (its ID, its record and map entries), roughly.
	ballotOverhead = 256
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
		ballotIDs: make(map[room.MessageID]struct{}),

		msgs:    window{maxCount: DefaultMaxMessages, maxBytes: DefaultMaxBytes},
		ballots: window{maxCount: DefaultMaxBallots, maxBytes: DefaultMaxBallotBytes},
	}
}

// SetLimits bounds the messages the state holds, in count and in estimated
// bytes (a body's length plus a fixed overhead each), forgetting the
// messages applied first past them. Role grants are neither counted nor
// forgotten: only the room's host signs them.
func (s *State) SetLimits(messages, bytes int) {
	s.msgs.maxCount, s.msgs.maxBytes = max(messages, 1), max(bytes, 1)
	s.forgetAll(s.msgs.trim())
}

// SetBallotLimits bounds the ballots the state holds, in count and in
// estimated bytes (an emoji's length plus a fixed overhead each),
// forgetting the ballots applied first past them. Messages do not count
// against these bounds, nor ballots against SetLimits'.
func (s *State) SetBallotLimits(ballots, bytes int) {
	s.ballots.maxCount, s.ballots.maxBytes = max(ballots, 1), max(bytes, 1)
	s.forgetAll(s.ballots.trim())
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
//   - A tally counts as moderation does (its sender the host or a
//     moderator at its Timestamp). A target's upvotes, and its reactions
//     with each emoji, are the higher of the distinct peers whose vote
//     counts and the highest count any counting tally gives them; a mute
//     never lowers a tally's count. The census is the present count of
//     the latest counting tally that gives one (by Timestamp, then
//     message ID); Presence uses it while it is fresh (CensusFresh).
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
		s.recordUpvote(b.question, m.Sender, m.Timestamp)
	case answered:
		s.answered[b.question] = append(s.answered[b.question], act)
	case pin:
		s.pins = append(s.pins, pinRecord{action: act, target: b.target})
	case hide:
		s.hides[b.target] = append(s.hides[b.target], act)
	case ReactionBody:
		s.recordReaction(b, m.Sender, m.Timestamp)
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
		s.forgetAll(s.msgs.push(applied{id: id, sender: m.Sender, at: m.Timestamp, body: p, size: len(m.Body) + messageOverhead}))
	}
	return nil
}

// ApplyBallot records b, a ballot of this room whose signature the caller
// has verified (b.Verify), as its voter's upvote of the question b.Target
// (b.Emoji empty) or reaction with b.Emoji to the message b.Target, sent
// at b.Time: it counts exactly as an upvote or reaction message of the
// voter with that timestamp would (once per voter, not while muted, see
// Apply), and a voter's message and ballot for the same vote count once.
// Applying a ballot applied before is a no-op; the queries give the same
// results for any order of the same messages and ballots.
//
// ApplyBallot rejects, and does not record, a ballot of another room
// (ErrWrongRoom), or one whose target is zero or whose emoji is not a
// valid reaction (ErrBadBody). Ballots are bounded apart from messages
// (SetBallotLimits): past the bounds the ballots applied first are
// forgotten.
func (s *State) ApplyBallot(b room.Ballot) error {
	if b.Room != s.desc.Room {
		return fmt.Errorf("%w: apply: ballot for %s in room %s", ErrWrongRoom, b.Room, s.desc.Room)
	}
	if b.Target == (room.MessageID{}) {
		return fmt.Errorf("%w: ballot of a zero target", ErrBadBody)
	}
	var p any = upvote{b.Target}
	if !b.Upvote() {
		if err := checkText("reaction", b.Emoji, MaxEmojiSize); err != nil {
			return fmt.Errorf("ballot from %s: %w", b.Voter, err)
		}
		p = ReactionBody{Target: b.Target, Emoji: b.Emoji}
	}
	id := b.ID()
	if _, ok := s.ballotIDs[id]; ok {
		return nil
	}
	s.ballotIDs[id] = struct{}{}
	switch v := p.(type) {
	case upvote:
		s.recordUpvote(v.question, b.Voter, b.Time)
	case ReactionBody:
		s.recordReaction(v, b.Voter, b.Time)
	}
	s.forgetAll(s.ballots.push(applied{id: id, sender: b.Voter, at: b.Time, body: p, size: len(b.Emoji) + ballotOverhead, ballot: true}))
	return nil
}

// Ballots returns how many distinct ballots the state holds.
func (s *State) Ballots() int { return len(s.ballotIDs) }

// HasBallot reports whether the ballot with this ID (room.Ballot.ID) has
// been applied.
func (s *State) HasBallot(id room.MessageID) bool {
	_, ok := s.ballotIDs[id]
	return ok
}

func (s *State) recordUpvote(question room.MessageID, voter keys.PublicKey, at time.Time) {
	votes := s.upvotes[question]
	if votes == nil {
		votes = make(map[keys.PublicKey][]time.Time)
		s.upvotes[question] = votes
	}
	votes[voter] = append(votes[voter], at)
}

func (s *State) recordReaction(r ReactionBody, voter keys.PublicKey, at time.Time) {
	byEmoji := s.reactions[r.Target]
	if byEmoji == nil {
		byEmoji = make(map[string]map[keys.PublicKey][]time.Time)
		s.reactions[r.Target] = byEmoji
	}
	who := byEmoji[r.Emoji]
	if who == nil {
		who = make(map[keys.PublicKey][]time.Time)
		byEmoji[r.Emoji] = who
	}
	who[voter] = append(who[voter], at)
}

// forgetAll forgets what a window evicted.
func (s *State) forgetAll(as []applied) {
	for _, a := range as {
		s.forget(a)
	}
}

// forget undoes what ApplyID or ApplyBallot recorded of a.
func (s *State) forget(a applied) {
	if a.ballot {
		delete(s.ballotIDs, a.id)
	} else {
		delete(s.seen, a.id)
	}
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
