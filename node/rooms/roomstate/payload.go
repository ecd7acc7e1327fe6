package roomstate

import (
	"fmt"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/room"
	"github.com/backchannel/backchannel/crypto/safename"
	"github.com/backchannel/backchannel/node/rooms/roomstate/internal/roomstatepb"
)

// Limits of message payloads.
const (
	// MaxChatSize is the longest chat text, in bytes of UTF-8.
	MaxChatSize = 1000
	// MaxQuestionSize is the longest question text, in bytes of UTF-8.
	MaxQuestionSize = 500
	// MaxEmojiSize is the longest reaction, in bytes of UTF-8.
	MaxEmojiSize = 32
	// MaxNameSize is the longest name a sender gives itself in a room, in
	// bytes of UTF-8 (as a profile name).
	MaxNameSize = 64
	// MinPresenceTTL and MaxPresenceTTL bound how long one presence message
	// keeps its sender in the room: long enough that a node announces itself
	// a few times a minute at most, short enough that a node that vanished
	// without leaving drops out within minutes.
	// A large room's listeners announce themselves rarely (node/rooms'
	// pacing), so a presence may hold for hours.
	MinPresenceTTL = 30 * time.Second
	MaxPresenceTTL = 3 * time.Hour
	// MaxMute is the longest mute, from the mute message's timestamp. A
	// moderator re-mutes to extend; there is no unmute but expiry.
	MaxMute = 24 * time.Hour
)

// payloadVersion is the wire version of every payload.
const payloadVersion = 1

// ChatBody is the payload of a chat message.
type ChatBody struct {
	Text    string         // 1 to MaxChatSize bytes of UTF-8
	ReplyTo room.MessageID // zero if not a reply
	Name    string         // the sender's name in the room; see checkName
}

// QuestionBody is the payload of a question.
type QuestionBody struct {
	Text string // 1 to MaxQuestionSize bytes of UTF-8
	Name string // the sender's name in the room; see checkName
}

// ReactionBody is the payload of a reaction.
type ReactionBody struct {
	Target room.MessageID
	Emoji  string // 1 to MaxEmojiSize bytes of UTF-8
}

// PresenceBody is the payload of a presence message.
type PresenceBody struct {
	TTL     time.Duration // MinPresenceTTL to MaxPresenceTTL, whole seconds
	Leaving bool
	Name    string // the sender's name in the room; see checkName
}

// TallyBody is the payload of a tally: the peers present and the totals of
// upvotes and reactions, as its sender (the host or a moderator) counts
// them.
type TallyBody struct {
	Present uint32 // 0: not told
	Counts  []TallyCount
}

// TallyCount is the number of distinct peers who upvoted a question (Emoji
// empty) or reacted to Target with Emoji.
type TallyCount struct {
	Target room.MessageID
	Emoji  string
	Count  uint32
}

// MaxTallyCounts bounds the counts of one tally, so that a tally fits a
// room message's body.
const MaxTallyCounts = 40

// MuteBody is the payload of a mute. The mute holds from the mute message's
// timestamp until Until, at most MaxMute later (checked with the message,
// since the body does not carry the timestamp).
type MuteBody struct {
	Peer  keys.PublicKey
	Until time.Time
}

// EncodeChat encodes a chat line; c.ReplyTo is zero if it replies to
// nothing.
func EncodeChat(c ChatBody) ([]byte, error) {
	if err := checkText("chat", c.Text, MaxChatSize); err != nil {
		return nil, err
	}
	if err := checkName(c.Name); err != nil {
		return nil, err
	}
	pb := &roomstatepb.Chat{Version: payloadVersion, Text: c.Text, Name: c.Name}
	if c.ReplyTo != (room.MessageID{}) {
		pb.ReplyTo = c.ReplyTo[:]
	}
	return proto.Marshal(pb)
}

// DecodeChat decodes a chat body made by EncodeChat.
func DecodeChat(body []byte) (ChatBody, error) {
	var pb roomstatepb.Chat
	if err := unmarshal("chat", body, &pb); err != nil {
		return ChatBody{}, err
	}
	if err := checkVersion("chat", pb.Version); err != nil {
		return ChatBody{}, err
	}
	if err := checkText("chat", pb.Text, MaxChatSize); err != nil {
		return ChatBody{}, err
	}
	if err := checkName(pb.Name); err != nil {
		return ChatBody{}, err
	}
	c := ChatBody{Text: pb.Text, Name: pb.Name}
	if len(pb.ReplyTo) > 0 {
		id, err := messageID("chat reply", pb.ReplyTo)
		if err != nil {
			return ChatBody{}, err
		}
		c.ReplyTo = id
	}
	return c, nil
}

// EncodeQuestion encodes a question.
func EncodeQuestion(q QuestionBody) ([]byte, error) {
	if err := checkText("question", q.Text, MaxQuestionSize); err != nil {
		return nil, err
	}
	if err := checkName(q.Name); err != nil {
		return nil, err
	}
	return proto.Marshal(&roomstatepb.Question{Version: payloadVersion, Text: q.Text, Name: q.Name})
}

// DecodeQuestion decodes a question body made by EncodeQuestion.
func DecodeQuestion(body []byte) (QuestionBody, error) {
	var pb roomstatepb.Question
	if err := unmarshal("question", body, &pb); err != nil {
		return QuestionBody{}, err
	}
	if err := checkVersion("question", pb.Version); err != nil {
		return QuestionBody{}, err
	}
	if err := checkText("question", pb.Text, MaxQuestionSize); err != nil {
		return QuestionBody{}, err
	}
	if err := checkName(pb.Name); err != nil {
		return QuestionBody{}, err
	}
	return QuestionBody{Text: pb.Text, Name: pb.Name}, nil
}

// EncodeUpvote encodes a vote for the question with ID question.
func EncodeUpvote(question room.MessageID) ([]byte, error) {
	return encodeTarget("upvote", question, false)
}

// EncodeAnswered encodes the marking of a question as answered.
func EncodeAnswered(question room.MessageID) ([]byte, error) {
	return encodeTarget("answered", question, false)
}

// EncodePin encodes the pinning of a message; a zero target unpins. The room
// has at most one pinned message: the latest pin (see State.Pinned).
func EncodePin(target room.MessageID) ([]byte, error) {
	return encodeTarget("pin", target, true)
}

// EncodeHide encodes the hiding of a message.
func EncodeHide(target room.MessageID) ([]byte, error) {
	return encodeTarget("hide", target, false)
}

// DecodeUpvote decodes an upvote body and returns the question's ID.
func DecodeUpvote(body []byte) (room.MessageID, error) { return decodeTarget("upvote", body, false) }

// DecodeAnswered decodes an answered body and returns the question's ID.
func DecodeAnswered(body []byte) (room.MessageID, error) {
	return decodeTarget("answered", body, false)
}

// DecodePin decodes a pin body and returns the pinned message's ID, zero
// for an unpin.
func DecodePin(body []byte) (room.MessageID, error) { return decodeTarget("pin", body, true) }

// DecodeHide decodes a hide body and returns the hidden message's ID.
func DecodeHide(body []byte) (room.MessageID, error) { return decodeTarget("hide", body, false) }

// EncodeReaction encodes a reaction with emoji to the message target.
func EncodeReaction(target room.MessageID, emoji string) ([]byte, error) {
	if target == (room.MessageID{}) {
		return nil, fmt.Errorf("%w: reaction to a zero message ID", ErrBadBody)
	}
	if err := checkText("reaction", emoji, MaxEmojiSize); err != nil {
		return nil, err
	}
	return proto.Marshal(&roomstatepb.Reaction{Version: payloadVersion, Target: target[:], Emoji: emoji})
}

// DecodeReaction decodes a reaction body made by EncodeReaction.
func DecodeReaction(body []byte) (ReactionBody, error) {
	var pb roomstatepb.Reaction
	if err := unmarshal("reaction", body, &pb); err != nil {
		return ReactionBody{}, err
	}
	if err := checkVersion("reaction", pb.Version); err != nil {
		return ReactionBody{}, err
	}
	id, err := messageID("reaction target", pb.Target)
	if err != nil {
		return ReactionBody{}, err
	}
	if err := checkText("reaction", pb.Emoji, MaxEmojiSize); err != nil {
		return ReactionBody{}, err
	}
	return ReactionBody{Target: id, Emoji: pb.Emoji}, nil
}

// EncodePresence encodes a presence announcement that holds for p.TTL
// (whole seconds, MinPresenceTTL to MaxPresenceTTL), or a departure if
// p.Leaving.
func EncodePresence(p PresenceBody) ([]byte, error) {
	if err := checkTTL(p.TTL); err != nil {
		return nil, err
	}
	if err := checkName(p.Name); err != nil {
		return nil, err
	}
	return proto.Marshal(&roomstatepb.Presence{Version: payloadVersion, TtlSeconds: uint32(p.TTL / time.Second), Leaving: p.Leaving, Name: p.Name})
}

// DecodePresence decodes a presence body made by EncodePresence.
func DecodePresence(body []byte) (PresenceBody, error) {
	var pb roomstatepb.Presence
	if err := unmarshal("presence", body, &pb); err != nil {
		return PresenceBody{}, err
	}
	if err := checkVersion("presence", pb.Version); err != nil {
		return PresenceBody{}, err
	}
	ttl := time.Duration(pb.TtlSeconds) * time.Second
	if err := checkTTL(ttl); err != nil {
		return PresenceBody{}, err
	}
	if err := checkName(pb.Name); err != nil {
		return PresenceBody{}, err
	}
	return PresenceBody{TTL: ttl, Leaving: pb.Leaving, Name: pb.Name}, nil
}

// EncodeTally encodes a tally of at most MaxTallyCounts counts, each for a
// distinct target and emoji.
func EncodeTally(t TallyBody) ([]byte, error) {
	if err := checkTally(t); err != nil {
		return nil, err
	}
	pb := &roomstatepb.Tally{Version: payloadVersion, Present: t.Present}
	for _, c := range t.Counts {
		pb.Counts = append(pb.Counts, &roomstatepb.TallyCount{Target: c.Target[:], Emoji: c.Emoji, Count: c.Count})
	}
	return proto.Marshal(pb)
}

// DecodeTally decodes a tally body made by EncodeTally.
func DecodeTally(body []byte) (TallyBody, error) {
	var pb roomstatepb.Tally
	if err := unmarshal("tally", body, &pb); err != nil {
		return TallyBody{}, err
	}
	if err := checkVersion("tally", pb.Version); err != nil {
		return TallyBody{}, err
	}
	t := TallyBody{Present: pb.Present}
	if len(pb.Counts) > MaxTallyCounts {
		return TallyBody{}, fmt.Errorf("%w: tally of %d counts, max %d", ErrBadBody, len(pb.Counts), MaxTallyCounts)
	}
	for _, c := range pb.Counts {
		id, err := messageID("tally target", c.Target)
		if err != nil {
			return TallyBody{}, err
		}
		t.Counts = append(t.Counts, TallyCount{Target: id, Emoji: c.Emoji, Count: c.Count})
	}
	if err := checkTally(t); err != nil {
		return TallyBody{}, err
	}
	return t, nil
}

// checkTally checks a tally's counts: at most MaxTallyCounts, each for a
// non-zero target, an emoji empty or a valid reaction, distinct.
func checkTally(t TallyBody) error {
	if len(t.Counts) > MaxTallyCounts {
		return fmt.Errorf("%w: tally of %d counts, max %d", ErrBadBody, len(t.Counts), MaxTallyCounts)
	}
	type key struct {
		target room.MessageID
		emoji  string
	}
	seen := make(map[key]bool, len(t.Counts))
	for _, c := range t.Counts {
		if c.Target == (room.MessageID{}) {
			return fmt.Errorf("%w: tally of a zero target", ErrBadBody)
		}
		if c.Emoji != "" {
			if err := checkText("tally emoji", c.Emoji, MaxEmojiSize); err != nil {
				return err
			}
		}
		k := key{c.Target, c.Emoji}
		if seen[k] {
			return fmt.Errorf("%w: tally counts %s %q twice", ErrBadBody, c.Target, c.Emoji)
		}
		seen[k] = true
	}
	return nil
}

// EncodeRoleGrant encodes a signed role grant as a role-grant body.
func EncodeRoleGrant(g room.RoleGrant) ([]byte, error) {
	b, err := g.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBody, err)
	}
	return b, nil
}

// DecodeRoleGrant decodes a role-grant body. It does not verify the grant.
func DecodeRoleGrant(body []byte) (room.RoleGrant, error) {
	g, err := room.UnmarshalRoleGrant(body)
	if err != nil {
		return room.RoleGrant{}, fmt.Errorf("%w: role grant: %w", ErrBadBody, err)
	}
	return g, nil
}

// EncodeMute encodes a mute of peer until a time. The mute message's
// timestamp must be before until and at most MaxMute earlier.
func EncodeMute(peer keys.PublicKey, until time.Time) ([]byte, error) {
	if peer.IsZero() {
		return nil, fmt.Errorf("%w: mute of a zero key", ErrBadBody)
	}
	if until.UnixMilli() <= 0 {
		return nil, fmt.Errorf("%w: mute until a time not after 1970", ErrBadBody)
	}
	return proto.Marshal(&roomstatepb.Mute{Version: payloadVersion, Peer: peer[:], UntilUnixMs: until.UnixMilli()})
}

// DecodeMute decodes a mute body made by EncodeMute.
func DecodeMute(body []byte) (MuteBody, error) {
	var pb roomstatepb.Mute
	if err := unmarshal("mute", body, &pb); err != nil {
		return MuteBody{}, err
	}
	if err := checkVersion("mute", pb.Version); err != nil {
		return MuteBody{}, err
	}
	peer, err := keys.PublicKeyFromBytes(pb.Peer)
	if err != nil {
		return MuteBody{}, fmt.Errorf("%w: mute peer: %w", ErrBadBody, err)
	}
	if peer.IsZero() {
		return MuteBody{}, fmt.Errorf("%w: mute of a zero key", ErrBadBody)
	}
	if pb.UntilUnixMs <= 0 {
		return MuteBody{}, fmt.Errorf("%w: mute until a time not after 1970", ErrBadBody)
	}
	return MuteBody{Peer: peer, Until: time.UnixMilli(pb.UntilUnixMs).UTC()}, nil
}

func encodeTarget(what string, target room.MessageID, zeroOK bool) ([]byte, error) {
	pb := &roomstatepb.Target{Version: payloadVersion}
	if target != (room.MessageID{}) {
		pb.Target = target[:]
	} else if !zeroOK {
		return nil, fmt.Errorf("%w: %s of a zero message ID", ErrBadBody, what)
	}
	return proto.Marshal(pb)
}

func decodeTarget(what string, body []byte, zeroOK bool) (room.MessageID, error) {
	var pb roomstatepb.Target
	if err := unmarshal(what, body, &pb); err != nil {
		return room.MessageID{}, err
	}
	if err := checkVersion(what, pb.Version); err != nil {
		return room.MessageID{}, err
	}
	if len(pb.Target) == 0 && zeroOK {
		return room.MessageID{}, nil
	}
	return messageID(what+" target", pb.Target)
}

func unmarshal(what string, body []byte, m proto.Message) error {
	if len(body) > room.MaxBody {
		return fmt.Errorf("%w: %s body is %d bytes, max %d", ErrBadBody, what, len(body), room.MaxBody)
	}
	if err := proto.Unmarshal(body, m); err != nil {
		return fmt.Errorf("%w: %s: %w", ErrBadBody, what, err)
	}
	return nil
}

func checkVersion(what string, v uint32) error {
	if v != payloadVersion {
		return fmt.Errorf("%w: %s version %d", ErrBadBody, what, v)
	}
	return nil
}

// checkText checks that s is 1 to max bytes of valid UTF-8.
func checkText(what, s string, max int) error {
	switch {
	case s == "":
		return fmt.Errorf("%w: empty %s", ErrBadBody, what)
	case len(s) > max:
		return fmt.Errorf("%w: %s is %d bytes, max %d", ErrBadBody, what, len(s), max)
	case !utf8.ValidString(s):
		return fmt.Errorf("%w: %s is not UTF-8", ErrBadBody, what)
	}
	return nil
}

// checkName checks the name a sender gives itself: empty (no name), or at
// most MaxNameSize bytes under crypto/safename's rule (UTF-8, no control
// character, no bidirectional control), so that it cannot drive or reorder
// the screen of whoever is shown it.
func checkName(name string) error {
	if len(name) > MaxNameSize {
		return fmt.Errorf("%w: name is %d bytes, max %d", ErrBadBody, len(name), MaxNameSize)
	}
	if err := safename.Check(name); err != nil {
		return fmt.Errorf("%w: %w", ErrBadBody, err)
	}
	return nil
}

// messageID decodes a required, non-zero message ID.
func messageID(what string, b []byte) (room.MessageID, error) {
	var id room.MessageID
	if len(b) != len(id) {
		return id, fmt.Errorf("%w: %s is %d bytes, want %d", ErrBadBody, what, len(b), len(id))
	}
	copy(id[:], b)
	if id == (room.MessageID{}) {
		return id, fmt.Errorf("%w: %s is zero", ErrBadBody, what)
	}
	return id, nil
}

func checkTTL(ttl time.Duration) error {
	if ttl < MinPresenceTTL || ttl > MaxPresenceTTL || ttl%time.Second != 0 {
		return fmt.Errorf("%w: presence TTL %s, want whole seconds from %s to %s", ErrBadBody, ttl, MinPresenceTTL, MaxPresenceTTL)
	}
	return nil
}
