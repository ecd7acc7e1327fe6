package requests

import (
	"time"

	"golang.org/x/time/rate"
)

// Limits bound what strangers (peers not accepted) can make a node store and
// do, and the size of messages.
type Limits struct {
	// MaxTextBytes bounds one text message.
	MaxTextBytes int
	// RequestMessagesPerSender bounds how many messages one stranger's request
	// thread keeps; more are refused until the thread is accepted.
	RequestMessagesPerSender int
	// RequestThreads bounds how many strangers' threads the requests inbox
	// holds at once.
	RequestThreads int
	// StrangerRate and StrangerBurst rate-limit each stranger's messages.
	StrangerRate  rate.Limit
	StrangerBurst int
	// AllStrangersRate and AllStrangersBurst rate-limit all strangers together.
	AllStrangersRate  rate.Limit
	AllStrangersBurst int
	// PreKeyRate and PreKeyBurst rate-limit bundle requests per peer.
	PreKeyRate  rate.Limit
	PreKeyBurst int
	// OneTimePreKeyRate and OneTimePreKeyBurst bound how many of the
	// bundles a peer fetches carry a fresh one-time prekey (the others
	// carry none), so that no one peer uses up the node's cap; zero: the
	// defaults'.
	OneTimePreKeyRate  rate.Limit
	OneTimePreKeyBurst int
	// SyncRate and SyncBurst rate-limit history requests per peer: the
	// rooms' sync protocol and the groups' each have a limiter of their own.
	SyncRate  rate.Limit
	SyncBurst int
}

// DefaultLimits are the limits a node uses unless configured.
var DefaultLimits = Limits{
	MaxTextBytes:             16 << 10,
	RequestMessagesPerSender: 20,
	RequestThreads:           200,
	StrangerRate:             1,
	StrangerBurst:            10,
	AllStrangersRate:         50,
	AllStrangersBurst:        200,
	PreKeyRate:               1,
	PreKeyBurst:              5,
	OneTimePreKeyRate:        rate.Every(time.Hour),
	OneTimePreKeyBurst:       3,
	SyncRate:                 2,
	SyncBurst:                10,
}
