package room

import "strconv"

// Kind is the kind of a room message. It tells the room layer how to read the
// message's Body; this package treats bodies as opaque. Who may send each kind
// is the room layer's policy, noted below as intended.
type Kind uint8

// Message kinds. The numbers are on the wire: never reuse one.
const (
	// KindChat is a chat line (anyone).
	KindChat Kind = 1 + iota
	// KindQuestion is a question for the Q&A queue (anyone).
	KindQuestion
	// KindUpvote is a vote for a question, named by its MessageID (anyone;
	// one per peer per question).
	KindUpvote
	// KindAnswered marks a question answered (host or moderator).
	KindAnswered
	// KindPin pins a message (host or moderator).
	KindPin
	// KindReaction is a reaction to a message (anyone).
	KindReaction
	// KindPresence announces that the sender is in the room (anyone).
	KindPresence
	// KindRoleGrant carries a RoleGrant (host).
	KindRoleGrant
	// KindHide hides a message from the room (host or moderator).
	KindHide
	// KindMute mutes a peer in the room (host or moderator).
	KindMute
	// KindTally tells the room the totals of what its audience handed the
	// sender rather than the topic: peers present, upvotes, reactions (host
	// or moderator).
	KindTally

	maxKind = KindTally
)

var kindNames = [...]string{
	KindChat:      "chat",
	KindQuestion:  "question",
	KindUpvote:    "upvote",
	KindAnswered:  "answered",
	KindPin:       "pin",
	KindReaction:  "reaction",
	KindPresence:  "presence",
	KindRoleGrant: "role-grant",
	KindHide:      "hide",
	KindMute:      "mute",
	KindTally:     "tally",
}

// Valid reports whether k is a kind this code knows.
func (k Kind) Valid() bool { return k >= KindChat && k <= maxKind }

// String returns the kind's name, such as "chat", or "room.Kind(n)" for an
// unknown kind.
func (k Kind) String() string {
	if !k.Valid() {
		return "room.Kind(" + strconv.Itoa(int(k)) + ")"
	}
	return kindNames[k]
}

// kindFromWire converts a wire kind, which is an int32 and so may be far out
// of Kind's range, without wrapping around.
func kindFromWire(v int32) (Kind, bool) {
	if v < int32(KindChat) || v > int32(maxKind) {
		return 0, false
	}
	return Kind(v), true
}
