package contacts

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/crypto/safety"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/storage"
)

// SafetyNumber returns the 60-digit safety number of this node and p.
func (s *Service) SafetyNumber(p peer.ID) (string, error) {
	pk, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errs.ErrUnknownPeer, err)
	}
	sn, err := safety.Number(s.env.Identity.Public().Key, pk)
	if err != nil {
		return "", fmt.Errorf("%w: %w", errs.ErrSelf, err)
	}
	return sn.String(), nil
}

// SetVerified records whether the user compared the safety number with p.
func (s *Service) SetVerified(p peer.ID, verified bool) error {
	return s.env.Store.Update(func(tx *storage.Txn) error {
		c, err := tx.Contact(p)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: %s is not a contact", errs.ErrUnknownPeer, p)
		}
		if err != nil {
			return err
		}
		c.Verified, c.Updated = verified, time.Now().UTC()
		return tx.PutContact(c)
	})
}
