package requests

import (
	"encoding/hex"
	"errors"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/stamp"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

// maxLimiters bounds the per-peer limiter tables; the least recently used
// entries go first.
const maxLimiters = 10000

// AdmissionConfig configures an Admission.
type AdmissionConfig struct {
	Limits Limits
	// Self is this node's identity key, which stamps are made for.
	Self keys.PublicKey
	// StampDifficulty is the proof-of-work, in bits, asked of strangers'
	// messages (0: none).
	StampDifficulty uint8
}

// Admission decides what strangers may do: it implements dm.Gate. It holds
// rate limiters only, and starts no goroutines.
type Admission struct {
	cfg       AdmissionConfig
	all       *rate.Limiter // all strangers together
	strangers *pubsub.Limiter
	prekeys   *pubsub.Limiter
	oneTime   *pubsub.Limiter
}

// NewAdmission returns the stranger checks for cfg.
func NewAdmission(cfg AdmissionConfig) *Admission {
	l := cfg.Limits
	if l.OneTimePreKeyRate == 0 && l.OneTimePreKeyBurst == 0 {
		l.OneTimePreKeyRate, l.OneTimePreKeyBurst = DefaultLimits.OneTimePreKeyRate, DefaultLimits.OneTimePreKeyBurst
	}
	return &Admission{
		cfg:       cfg,
		all:       rate.NewLimiter(l.AllStrangersRate, l.AllStrangersBurst),
		strangers: pubsub.NewLimiter(l.StrangerRate, l.StrangerBurst, maxLimiters),
		prekeys:   pubsub.NewLimiter(l.PreKeyRate, l.PreKeyBurst, maxLimiters),
		oneTime:   pubsub.NewLimiter(l.OneTimePreKeyRate, l.OneTimePreKeyBurst, maxLimiters),
	}
}

// allowStranger reports whether a stranger may deliver one more message now.
func (a *Admission) allowStranger(p peer.ID) bool {
	return a.strangers.Allow(string(p)) && a.all.AllowN(time.Now(), 1)
}

// AllowPreKey reports whether p may fetch another bundle now.
func (a *Admission) AllowPreKey(p peer.ID) bool { return a.prekeys.Allow(string(p)) }

// AllowOneTimePreKey reports whether the bundle p fetches now may carry a
// fresh one-time prekey.
func (a *Admission) AllowOneTimePreKey(p peer.ID) bool { return a.oneTime.Allow(string(p)) }

// AdmitStranger applies the caps, rate limits and stamp requirement to a
// stranger's envelope. A non-empty reason asks the sender to retry later.
func (a *Admission) AdmitStranger(tx *storage.Txn, s dm.Stranger) (string, error) {
	l := a.cfg.Limits
	if !a.allowStranger(s.Peer) {
		return "rate limited", nil
	}
	count, err := tx.CountMessages(s.Peer)
	if err != nil {
		return "", err
	}
	if count+s.Stored >= l.RequestMessagesPerSender {
		return "request thread full until accepted", nil
	}
	if !s.Known && s.Stored == 0 {
		threads, err := Threads(tx)
		if err != nil {
			return "", err
		}
		if threads >= l.RequestThreads {
			return "requests inbox full", nil
		}
	}
	if ok, err := tokenAdmits(tx, s); err != nil || ok {
		return "", err
	}
	if d := a.cfg.StampDifficulty; d > 0 {
		st, err := stamp.UnmarshalStamp(s.Stamp)
		if err != nil {
			return "proof-of-work stamp required", nil
		}
		ctx := stamp.Context{Recipient: a.cfg.Self, Sender: s.Key, MessageHash: stamp.HashMessage(s.RatchetMessage)}
		if err := st.Verify(ctx, d, time.Now()); err != nil {
			return "proof-of-work stamp rejected", nil
		}
	}
	return "", nil
}

// tokenAdmits reports whether a one-time invite token lets this stranger
// skip the stamp: a valid token is used up by the first message carrying it
// and admits that peer from then on.
func tokenAdmits(tx *storage.Txn, s dm.Stranger) (bool, error) {
	if _, err := tx.GetSetting(contacts.TokenAdmittedKey(s.Peer)); err == nil {
		return true, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	if len(s.InviteToken) != contacts.TokenBytes {
		return false, nil
	}
	key := contacts.TokenKey(hex.EncodeToString(s.InviteToken))
	if _, err := tx.GetSetting(key); errors.Is(err, storage.ErrNotFound) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if err := tx.DeleteSetting(key); err != nil {
		return false, err
	}
	return true, tx.PutSetting(contacts.TokenAdmittedKey(s.Peer), []byte{1})
}

// Threads counts strangers' threads in the requests inbox.
func Threads(tx *storage.Txn) (int, error) {
	cs, err := tx.Contacts()
	if err != nil {
		return 0, err
	}
	count := 0
	for _, c := range cs {
		if c.State == storage.ContactUnknown {
			count++
		}
	}
	return count, nil
}
