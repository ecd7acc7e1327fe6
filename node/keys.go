package node

import (
	"errors"
	"fmt"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/storage"
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
