package pubsub

import (
	"context"

	lpubsub "github.com/libp2p/go-libp2p-pubsub"
	"github.com/libp2p/go-libp2p/core/peer"
)

// Result is a validator's verdict on a message.
type Result int

const (
	// Accept delivers the message and forwards it.
	Accept Result = iota
	// Reject drops the message, does not forward it, and (with scoring)
	// penalises the peer that sent it. Return Reject only for what every
	// honest node would reject too (forged, malformed, bound elsewhere):
	// an honest relay must never be penalised for forwarding it.
	Reject
	// Ignore drops the message without forwarding it and without
	// penalty: for verdicts that depend on local state (rate limits, a
	// mute the relay may not know yet, duplicates).
	Ignore
)

// String returns the result's name.
func (r Result) String() string {
	switch r {
	case Accept:
		return "accept"
	case Reject:
		return "reject"
	case Ignore:
		return "ignore"
	default:
		return "unknown"
	}
}

func (r Result) lib() lpubsub.ValidationResult {
	switch r {
	case Accept:
		return lpubsub.ValidationAccept
	case Ignore:
		return lpubsub.ValidationIgnore
	default:
		return lpubsub.ValidationReject // unknown verdicts fail closed
	}
}

// Validator judges a message's data. from is the peer that forwarded it to
// this node (not necessarily its author), or this node's own ID for a local
// publish, which is validated too. A validator runs concurrently with
// itself and must be safe for that; it should return promptly (it is cut
// off after validateTimeout) and watch ctx for long work.
type Validator func(ctx context.Context, from peer.ID, data []byte) Result

// DecodingValidator is a Validator that also returns what it decoded from
// data to judge it. A message it accepts reaches the topic's reader with
// that value in Message.Decoded, so the reader does not decode it again.
type DecodingValidator func(ctx context.Context, from peer.ID, data []byte) (Result, any)
