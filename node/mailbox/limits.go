package mailbox

import (
	"time"

	"golang.org/x/time/rate"
)

// Limits bound what a mailbox holds and does for others.
type Limits struct {
	// MaxRecipients bounds how many identities a mailbox holds mail for.
	MaxRecipients int
	// PerRecipientItems and PerRecipientBytes bound one recipient's queue.
	PerRecipientItems int
	PerRecipientBytes int64
	// PerDepositorItems and PerDepositorBytes bound what one depositor (a
	// contact's capability, or a stranger) has queued for one recipient.
	PerDepositorItems int
	PerDepositorBytes int64
	// PerStrangerItems bounds what one stranger has queued for a recipient,
	// StrangerItems what all strangers have: a recipient's request limits.
	PerStrangerItems int
	StrangerItems    int
	// DepositRate and DepositBurst bound deposit requests per depositor
	// (each costs the mailbox a commit; a sender's outbox deposits as
	// messages come, so a burst of sends is a burst of requests);
	// StrangerRate and StrangerBurst all strangers' deposit requests for
	// one recipient together.
	DepositRate   rate.Limit
	DepositBurst  int
	StrangerRate  rate.Limit
	StrangerBurst int
	// TTL is how long an item is held before it is deleted unread.
	TTL time.Duration
	// MaxAppointment bounds how far ahead an appointment may expire.
	MaxAppointment time.Duration
}

// DefaultLimits are a mailbox's limits unless configured. A full helper
// holds at most MaxRecipients × PerRecipientBytes (64 GiB at 1,024 × 64 MiB);
// a user who runs one for a community lowers MaxRecipients to fit its disk.
var DefaultLimits = Limits{
	MaxRecipients:     1024,
	PerRecipientItems: 20000,
	PerRecipientBytes: 64 << 20,
	PerDepositorItems: 5000,
	PerDepositorBytes: 16 << 20,
	PerStrangerItems:  20,
	StrangerItems:     200,
	DepositRate:       100,
	DepositBurst:      200,
	StrangerRate:      1,
	StrangerBurst:     10,
	TTL:               30 * 24 * time.Hour,
	MaxAppointment:    400 * 24 * time.Hour,
}

const (
	// maxDepositBytes bounds the sealed items of one deposit request; a
	// depositor sends more in several.
	maxDepositBytes = 1 << 20
	// maxFetchItems and maxFetchBytes bound one fetch's answer: one receive
	// transaction of the 1:1 service takes 256 envelopes at most.
	maxFetchItems = 256
	maxFetchBytes = 1 << 20
	// maxMailboxes bounds the mailboxes a recipient appoints, and so the
	// entries of a list a contact sends us.
	maxMailboxes = 4
	// maxAddrs bounds the address hints per mailbox in a list.
	maxAddrs = 8
	// maxAddrBytes bounds one address hint.
	maxAddrBytes = 256
	// maxBundleSize bounds a prekey bundle a mailbox keeps for a recipient.
	maxBundleSize = 4 << 10
	// bundleRate and bundleBurst bound GetBundle requests per asker.
	bundleRate  = 1
	bundleBurst = 5
	// maxLimiters bounds the rate limiters kept in memory; past it they are
	// all forgotten (a flood of fresh identities resets everyone's bucket,
	// which gives each at most one burst more).
	maxLimiters = 4096
)
