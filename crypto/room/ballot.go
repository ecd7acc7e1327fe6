package room

import (
	"crypto/sha256"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/backchannel/backchannel/crypto/internal/canon"
	"github.com/backchannel/backchannel/crypto/keys"
)

// Limits of ballots.
const (
	// MaxBallotEmoji is the longest reaction a ballot carries, in bytes of
	// UTF-8: a room's reaction limit.
	MaxBallotEmoji = 32
	// MaxBallotSize is the largest encoded ballot (one of the longest
	// emoji is some 220 bytes).
	MaxBallotSize = 256
)

const (
	domainBallot  = "room/ballot/v1"
	labelBallotID = "backchannel/room/ballot-id/v1"
)

// Ballot is a listener's upvote of the question Target (Emoji empty) or
// reaction with Emoji to the message Target, handed to the room's host
// instead of published on the room's topic: in a large room, the host
// counts the audience's votes and tells the room the totals in a tally.
// Sign fills Voter and Signature; Verify checks them against the room.
//
// A ballot is not a room message: it has no sequence number, so it never
// enters a sender's high-water marks or the history that sync exchanges.
// Two ballots of one voter for the same target and emoji count once.
type Ballot struct {
	Room      ID
	Target    MessageID
	Emoji     string // empty: an upvote; else 1 to MaxBallotEmoji bytes of UTF-8
	Voter     keys.PublicKey
	Time      time.Time
	Signature [keys.SignatureSize]byte
}

// Upvote reports whether b is an upvote (not a reaction).
func (b Ballot) Upvote() bool { return b.Emoji == "" }

// Sign sets b's Voter to voter's public key and signs b. The signature
// covers, in canonical form, the room, target, emoji, voter and time (to
// the millisecond, which Sign rounds to). On error b is unchanged.
func (b *Ballot) Sign(voter keys.PrivateKey) error {
	if voter.IsZero() {
		return fmt.Errorf("%w: sign ballot: zero private key: %w", ErrInvalid, keys.ErrZeroKey)
	}
	s := *b
	s.Voter = voter.Public()
	s.Time = roundMilli(s.Time)
	if err := s.check(); err != nil {
		return err
	}
	copy(s.Signature[:], voter.Sign(domainBallot, s.signedBytes()))
	*b = s
	return nil
}

// Verify checks that b is well formed, is bound to room (ErrWrongRoom if
// it was made for another one) and is signed by its Voter. It does not
// judge the time, whether the target exists or whether the voter may vote:
// that takes the room's state.
func (b Ballot) Verify(room ID) error {
	if err := b.check(); err != nil {
		return err
	}
	if b.Room != room {
		return fmt.Errorf("%w: ballot is for room %s, not %s", ErrWrongRoom, b.Room, room)
	}
	if !b.Voter.Verify(domainBallot, b.signedBytes(), b.Signature[:]) {
		return fmt.Errorf("%w: ballot of %s on %s", ErrBadSignature, b.Voter, b.Target)
	}
	return nil
}

// check checks every field but the signature.
func (b Ballot) check() error {
	if b.Room.IsZero() {
		return fmt.Errorf("%w: ballot has a zero room ID", ErrInvalid)
	}
	if b.Target == (MessageID{}) {
		return fmt.Errorf("%w: ballot has a zero target", ErrInvalid)
	}
	if len(b.Emoji) > MaxBallotEmoji {
		return fmt.Errorf("%w: ballot emoji is %d bytes, max %d", ErrTooLarge, len(b.Emoji), MaxBallotEmoji)
	}
	if !utf8.ValidString(b.Emoji) {
		return fmt.Errorf("%w: ballot emoji is not UTF-8", ErrInvalid)
	}
	if b.Voter.IsZero() {
		return fmt.Errorf("%w: ballot has a zero voter: %w", ErrInvalid, keys.ErrZeroKey)
	}
	return checkTime("ballot time", b.Time)
}

func (b Ballot) signedBytes() []byte {
	var c canon.Builder
	return c.Fixed(b.Room[:]).
		Fixed(b.Target[:]).
		String(b.Emoji).
		Fixed(b.Voter[:]).
		Int64(unixMilli(b.Time)).
		Build()
}

// ID returns a name of b for deduplication: SHA-256 over a label of its
// own, the signed bytes and the signature. It is never a MessageID of a
// room message (the labels differ), and nothing targets a ballot.
func (b Ballot) ID() MessageID {
	var c canon.Builder
	return sha256.Sum256(c.String(labelBallotID).Bytes(b.signedBytes()).Fixed(b.Signature[:]).Build())
}
