package env

import (
	"errors"
	"fmt"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/storage"
)

// LoadOrCreateIdentity returns the identity st holds, creating and storing
// one on first use: the node's at start, and a test service's the same way.
func LoadOrCreateIdentity(st *storage.Store) (identity.Identity, error) {
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
