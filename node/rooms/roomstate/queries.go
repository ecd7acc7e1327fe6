package roomstate

import (
	"bytes"
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
)

// Chat is a visible chat line.
type Chat struct {
	ID        room.MessageID
	Sender    keys.PublicKey
	Name      string // the name the sender signed into the line; may be empty
	Timestamp time.Time
	Text      string
	ReplyTo   room.MessageID // zero if not a reply
	Reactions []Reaction     // see Reaction for the order
}

// Question is a visible question of the Q&A queue.
type Question struct {
	ID        room.MessageID
	Sender    keys.PublicKey
	Name      string // the name the sender signed into the question; may be empty
	Timestamp time.Time
	Text      string
	Upvotes   int  // distinct peers whose vote counts (see State.Apply)
	Answered  bool // a counting answered mark names it
	Pinned    bool // it is the room's pinned message
	Reactions []Reaction
}

// Reaction is one emoji's reactions to a message: Count distinct peers not
// muted when they reacted. A message's reactions are ordered by Count
// descending, then by Emoji.
type Reaction struct {
	Emoji string
	Count int
}

// Chat returns the last limit visible chat lines (all if limit <= 0), oldest
// first: by Timestamp, then by message ID. A line is visible unless a
// counting hide names it or its sender was muted at its Timestamp.
func (s *State) Chat(limit int) []Chat {
	out := make([]Chat, 0, len(s.chats))
	for id, c := range s.chats {
		if s.hidden(id) || s.Muted(c.sender, c.at) {
			continue
		}
		out = append(out, Chat{ID: id, Sender: c.sender, Name: c.body.Name, Timestamp: c.at, Text: c.body.Text, ReplyTo: c.body.ReplyTo})
	}
	slices.SortFunc(out, func(a, b Chat) int { return byTimeThenID(a.Timestamp, a.ID, b.Timestamp, b.ID) })
	if limit > 0 && len(out) > limit {
		out = out[len(out)-limit:]
	}
	for i := range out {
		out[i].Reactions = s.reactionsTo(out[i].ID)
	}
	return out
}

// Questions returns the visible questions (visible as chat lines are), by
// Upvotes descending, then Timestamp ascending, then message ID. Answered
// questions stay in the list, marked.
func (s *State) Questions() []Question {
	pinned := s.Pinned()
	out := make([]Question, 0, len(s.questions))
	for id, q := range s.questions {
		if s.hidden(id) || s.Muted(q.sender, q.at) {
			continue
		}
		out = append(out, Question{
			ID:        id,
			Sender:    q.sender,
			Name:      q.body.Name,
			Timestamp: q.at,
			Text:      q.body.Text,
			Upvotes:   s.upvoteCount(id),
			Answered:  s.anyCounts(s.answered[id]),
			Pinned:    pinned == id,
			Reactions: s.reactionsTo(id),
		})
	}
	slices.SortFunc(out, func(a, b Question) int {
		if c := cmp.Compare(b.Upvotes, a.Upvotes); c != 0 {
			return c
		}
		return byTimeThenID(a.Timestamp, a.ID, b.Timestamp, b.ID)
	})
	return out
}

// Pinned returns the ID of the room's pinned message, zero if none: the
// target of the latest counting pin (by Timestamp, then message ID). The
// room has at most one pinned message; a pin of the zero ID unpins. The
// pinned message may be hidden or not yet known.
func (s *State) Pinned() room.MessageID {
	var best *pinRecord
	for i := range s.pins {
		p := &s.pins[i]
		if (best == nil || later(p.at, p.id, best.at, best.id)) && s.counts(p.action) {
			best = p
		}
	}
	if best == nil {
		return room.MessageID{}
	}
	return best.target
}

// Hidden reports whether a counting hide names the message id.
func (s *State) Hidden(id room.MessageID) bool { return s.hidden(id) }

// CensusFresh is how long a tally's count of the peers present stands in
// for the presences a node has not seen (the host of a large room sends
// one every minute).
const CensusFresh = 3 * time.Minute

// Presence returns who is in the room at now. A peer is present if its
// latest presence message (by Timestamp, then message ID) is not leaving,
// is stamped no later than now plus room.MaxClockSkew, and its TTL has not
// run out at now. Speakers are the present host and holders of a speaker
// grant at now, sorted by key; listeners counts every other present peer,
// moderators included, or, when a fresh counting tally (see CensusFresh)
// counts more peers present than that, its count less the speakers: a
// newcomer to a large room has not yet seen most listeners' presence,
// which they send rarely.
func (s *State) Presence(now time.Time) (listeners int, speakers []keys.PublicKey) {
	defer func() { listeners = max(listeners, s.census(now)-len(speakers)) }()
	for p, rec := range s.presence {
		if !s.present(rec, now) {
			continue
		}
		if p == s.desc.Host || s.hasGrant(p, room.RoleSpeaker, now) {
			speakers = append(speakers, p)
		} else {
			listeners++
		}
	}
	slices.SortFunc(speakers, func(a, b keys.PublicKey) int { return bytes.Compare(a[:], b[:]) })
	return listeners, speakers
}

// Member is a peer present in a room.
type Member struct {
	Key  keys.PublicKey
	Name string // from its latest presence; may be empty
	Role Role   // at the time asked
}

// Members returns the peers present at now, as Presence counts them, with
// their names and roles: the most powerful role first, then by key.
func (s *State) Members(now time.Time) []Member {
	var out []Member
	for p, rec := range s.presence {
		if s.present(rec, now) {
			out = append(out, Member{Key: p, Name: rec.body.Name, Role: s.Role(p, now)})
		}
	}
	slices.SortFunc(out, func(a, b Member) int {
		if c := cmp.Compare(b.Role, a.Role); c != 0 {
			return c
		}
		return bytes.Compare(a.Key[:], b.Key[:])
	})
	return out
}

// EachName calls fn for every name the state holds a sender giving itself:
// in each visible chat line and question, and in each peer's latest
// presence (present or not), in no order and possibly more than once per
// sender. It is what tells who else uses a name.
func (s *State) EachName(fn func(sender keys.PublicKey, name string)) {
	for id, c := range s.chats {
		if c.body.Name != "" && !s.hidden(id) {
			fn(c.sender, c.body.Name)
		}
	}
	for id, q := range s.questions {
		if q.body.Name != "" && !s.hidden(id) {
			fn(q.sender, q.body.Name)
		}
	}
	for p, rec := range s.presence {
		if rec.body.Name != "" {
			fn(p, rec.body.Name)
		}
	}
}

// present reports whether a peer whose latest presence is rec is in the
// room at now (see Presence).
func (s *State) present(rec presenceRecord, now time.Time) bool {
	return !rec.body.Leaving && !rec.at.After(now.Add(room.MaxClockSkew)) && now.Before(rec.at.Add(rec.body.TTL))
}

func (s *State) hidden(id room.MessageID) bool { return s.anyCounts(s.hides[id]) }

// anyCounts reports whether any of the actions counts.
func (s *State) anyCounts(as []action) bool {
	for _, a := range as {
		if s.counts(a) {
			return true
		}
	}
	return false
}

// VotedBy tells whether k upvoted target (emoji empty) or reacted to it
// with emoji by a message on the room's topic. A vote handed to the host as
// a ballot is not among them: the room knows it only as a tally's count.
func (s *State) VotedBy(target room.MessageID, emoji string, k keys.PublicKey) bool {
	var ok bool
	if emoji == "" {
		_, ok = s.upvotes[target][k]
	} else {
		_, ok = s.reactions[target][emoji][k]
	}
	return ok
}

// upvoteCount is the distinct voters of a question whose vote counts (by
// message or ballot, not sent while muted), or the highest count a counting
// tally gives it, whichever is more: in a large room listeners hand their
// votes to the host, which tallies them.
func (s *State) upvoteCount(question room.MessageID) int {
	return max(s.distinct(s.upvotes[question]), s.talliedCount(question, ""))
}

// TalliedCount is the highest count of target and emoji (empty: upvotes)
// in a counting tally, 0 if none counts them: what the room was last told
// of them.
func (s *State) TalliedCount(target room.MessageID, emoji string) int {
	return s.talliedCount(target, emoji)
}

// talliedCount is the highest count of target and emoji in a counting
// tally: counts only grow (a vote or a reaction is never taken back), so
// the highest is the latest, whatever order tallies arrive in.
func (s *State) talliedCount(target room.MessageID, emoji string) int {
	n := 0
	for _, t := range s.tallied[target][emoji] {
		if int(t.count) > n && s.counts(t.action) {
			n = int(t.count)
		}
	}
	return n
}

// census is the peers present by the latest counting tally that told them,
// if it was sent within CensusFresh before now (and not after it, beyond
// room.MaxClockSkew); 0 if none.
func (s *State) census(now time.Time) int {
	var best *tallyRecord
	for i := range s.censuses {
		c := &s.censuses[i]
		if (best == nil || later(c.at, c.id, best.at, best.id)) && s.counts(c.action) {
			best = c
		}
	}
	if best == nil || best.at.Before(now.Add(-CensusFresh)) || best.at.After(now.Add(room.MaxClockSkew)) {
		return 0
	}
	return int(best.count)
}

// Count returns what the room counts of target now: its upvotes (emoji
// empty) or its reactions with emoji, as Questions and Chat show them
// (distinct voters by message or ballot, not muted when they voted, or a
// counting tally's count if higher), whether or not target is known. It is
// what a host tallies.
func (s *State) Count(target room.MessageID, emoji string) int {
	if emoji == "" {
		return s.upvoteCount(target)
	}
	return max(s.distinct(s.reactions[target][emoji]), s.talliedCount(target, emoji))
}

// distinct counts the peers with a time at which they were not muted.
func (s *State) distinct(who map[keys.PublicKey][]time.Time) int {
	n := 0
	for p, times := range who {
		if s.anyUnmuted(p, times) {
			n++
		}
	}
	return n
}

// PresentSeen counts the peers present at now by their own presence
// messages alone (as Presence does, host and speakers included), leaving
// any tally's census out: what a host counts for its census, which must
// not feed on its own earlier ones.
func (s *State) PresentSeen(now time.Time) int {
	n := 0
	for _, rec := range s.presence {
		if s.present(rec, now) {
			n++
		}
	}
	return n
}

// VisibleKind tells whether id names a visible chat line (room.KindChat)
// or question (room.KindQuestion) that the state holds: what an upvote or
// reaction handed to the host may target.
func (s *State) VisibleKind(id room.MessageID) (room.Kind, bool) {
	if c, ok := s.chats[id]; ok && !s.hidden(id) && !s.Muted(c.sender, c.at) {
		return room.KindChat, true
	}
	if q, ok := s.questions[id]; ok && !s.hidden(id) && !s.Muted(q.sender, q.at) {
		return room.KindQuestion, true
	}
	return 0, false
}

// reactionsTo returns the counting reactions to a message.
func (s *State) reactionsTo(id room.MessageID) []Reaction {
	byEmoji := s.reactions[id]
	tallied := s.tallied[id]
	if len(byEmoji) == 0 && len(tallied) == 0 {
		return nil
	}
	var out []Reaction
	for emoji, who := range byEmoji {
		if n := max(s.distinct(who), s.talliedCount(id, emoji)); n > 0 {
			out = append(out, Reaction{Emoji: emoji, Count: n})
		}
	}
	for emoji := range tallied {
		if _, direct := byEmoji[emoji]; direct || emoji == "" {
			continue
		}
		if n := s.talliedCount(id, emoji); n > 0 {
			out = append(out, Reaction{Emoji: emoji, Count: n})
		}
	}
	slices.SortFunc(out, func(a, b Reaction) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Emoji, b.Emoji)
	})
	return out
}

// anyUnmuted reports whether p was unmuted at any of times.
func (s *State) anyUnmuted(p keys.PublicKey, times []time.Time) bool {
	if len(s.mutes[p]) == 0 {
		return len(times) > 0
	}
	for _, t := range times {
		if !s.Muted(p, t) {
			return true
		}
	}
	return false
}

// hasGrant reports whether p holds a grant of role r at t.
func (s *State) hasGrant(p keys.PublicKey, r room.Role, t time.Time) bool {
	for _, g := range s.grants[p] {
		if g.Role == r && grantHolds(g, t) {
			return true
		}
	}
	return false
}

// byTimeThenID orders by time, then by message ID bytes.
func byTimeThenID(t1 time.Time, id1 room.MessageID, t2 time.Time, id2 room.MessageID) int {
	if c := t1.Compare(t2); c != 0 {
		return c
	}
	return bytes.Compare(id1[:], id2[:])
}
