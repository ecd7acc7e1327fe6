package mailbox

import (
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/storage"
)

// Held is what this node holds for one recipient: counts and sizes, never
// contents (it cannot read them).
type Held struct {
	Recipient     peer.ID
	Items         int
	Bytes         int64
	StrangerItems int
	Appointed     time.Time
	Expires       time.Time
}

// Held lists the recipients this node holds mail for.
func (s *Service) Held() ([]Held, error) {
	var out []Held
	err := s.view(func(tx *storage.Txn) error {
		regs, err := tx.MailboxRegistrations()
		for _, r := range regs {
			out = append(out, Held{Recipient: r.Recipient, Items: r.Items, Bytes: r.Bytes, StrangerItems: r.StrangerItems,
				Appointed: r.Appointed, Expires: r.Expires})
		}
		return err
	})
	return out, err
}
