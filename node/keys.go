package node

import (
	"errors"
	"fmt"
	"time"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/storage"
)

const (
	// signedPreKeyLifetime is how long a signed prekey is valid; the node
	// rotates it once less than signedPreKeyRenew remains, and keeps old ones
	// (to answer late first messages) until they expire.
	signedPreKeyLifetime = 30 * 24 * time.Hour
	signedPreKeyRenew    = 7 * 24 * time.Hour
	// maxOneTimePreKeys bounds the one-time prekeys handed out and not yet
	// used; past it, bundles carry none (X3DH works without).
	maxOneTimePreKeys = 2000
)

// loadOrCreateIdentity returns the node's identity, creating and storing it
// on first start.
func loadOrCreateIdentity(st *storage.Store) (identity.Identity, error) {
	var id identity.Identity
	err := st.Update(func(tx *storage.Txn) error {
		b, err := tx.Identity()
		if err == nil {
			id, err = identity.UnmarshalIdentity(b)
			return err
		}
		if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		id = identity.New()
		b, err = id.MarshalBinary()
		if err != nil {
			return err
		}
		return tx.PutIdentity(b)
	})
	if err != nil {
		return identity.Identity{}, fmt.Errorf("identity: %w", err)
	}
	return id, nil
}

func nextKeyID(tx *storage.Txn) (uint32, error) {
	n, err := tx.NextSequence("prekey")
	if err != nil {
		return 0, err
	}
	return uint32(n), nil
}

// currentSignedPreKey returns the signed prekey to publish, rotating it when
// it nears expiry.
func currentSignedPreKey(tx *storage.Txn, id identity.Identity, now time.Time) (identity.SignedPreKeyPair, error) {
	cur, err := tx.CurrentSignedPreKeyID()
	if err == nil {
		b, err := tx.SignedPreKey(cur)
		if err != nil {
			return identity.SignedPreKeyPair{}, err
		}
		spk, err := identity.UnmarshalSignedPreKeyPair(b)
		if err != nil {
			return identity.SignedPreKeyPair{}, err
		}
		if spk.Expires.Sub(now) > signedPreKeyRenew {
			return spk, nil
		}
	} else if !errors.Is(err, storage.ErrNotFound) {
		return identity.SignedPreKeyPair{}, err
	}
	kid, err := nextKeyID(tx)
	if err != nil {
		return identity.SignedPreKeyPair{}, err
	}
	spk := id.NewSignedPreKey(kid, now.Add(signedPreKeyLifetime))
	b, err := spk.MarshalBinary()
	if err != nil {
		return identity.SignedPreKeyPair{}, err
	}
	if err := tx.PutSignedPreKey(kid, b); err != nil {
		return identity.SignedPreKeyPair{}, err
	}
	return spk, tx.SetCurrentSignedPreKeyID(kid)
}

// mintBundle makes a bundle with a fresh one-time prekey, stored in the same
// transaction.
func (n *Node) mintBundle(now time.Time) (identity.Bundle, error) {
	var b identity.Bundle
	err := n.store.Update(func(tx *storage.Txn) error {
		spk, err := currentSignedPreKey(tx, n.id, now)
		if err != nil {
			return err
		}
		count, err := tx.CountOneTimePreKeys()
		if err != nil {
			return err
		}
		var opk *identity.OneTimePreKey
		if count < maxOneTimePreKeys {
			kid, err := nextKeyID(tx)
			if err != nil {
				return err
			}
			pair := identity.NewOneTimePreKey(kid)
			enc, err := pair.MarshalBinary()
			if err != nil {
				return err
			}
			if err := tx.PutOneTimePreKey(kid, enc); err != nil {
				return err
			}
			opk = &pair.OneTimePreKey
		}
		b = n.id.NewBundle(spk.SignedPreKey, opk, n.cfg.StampDifficulty)
		return nil
	})
	return b, err
}
