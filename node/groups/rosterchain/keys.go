package rosterchain

import (
	"errors"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/peer"
)

// PutKey stores an epoch key if the chain's roster of that epoch lists us
// and was signed by from, and we have none for it yet.
func PutKey(tx *storage.Txn, g storage.Group, chain *Chain, gk group.GroupKey, kb []byte, from peer.ID, self keys.PublicKey) (bool, error) {
	r := chain.At(gk.Epoch)
	if r == nil || r.Signer.PeerID() != from || !r.IsMember(self) {
		return false, nil
	}
	if _, err := tx.GroupEpochKey(g.ID, gk.Epoch); err == nil {
		return false, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return false, err
	}
	return true, tx.PutGroupEpochKey(g.ID, gk.Epoch, kb)
}

// maxParkedKeys bounds the keys a group keeps waiting for their rosters.
const maxParkedKeys = 32

// ParkKey keeps a key whose roster does not follow the chain yet, unless
// too many wait already.
func ParkKey(tx *storage.Txn, g storage.Group, k storage.ParkedGroupKey) error {
	parked, err := tx.ParkedGroupKeys(g.ID)
	if err != nil {
		return err
	}
	if len(parked) >= maxParkedKeys {
		return nil // sync and later keys will do
	}
	return tx.PutParkedGroupKey(g.ID, k)
}

// UnparkKeys takes the parked keys whose rosters now follow the chain, in
// epoch order, and returns the epochs whose keys it stored. A key whose
// roster still does not follow (a fork not resolved here yet) keeps
// waiting; one that lost, or is older than the base, goes.
func UnparkKeys(tx *storage.Txn, g storage.Group, chain *Chain, self keys.PublicKey) ([]uint64, error) {
	parked, err := tx.ParkedGroupKeys(g.ID)
	if err != nil {
		return nil, err
	}
	var epochs []uint64
	for _, pk := range parked {
		if pk.Epoch > chain.Latest().Epoch+1 {
			break // still a gap
		}
		gk, err1 := group.UnmarshalGroupKey(pk.Key)
		r, err2 := group.UnmarshalRoster(pk.Roster)
		if err1 != nil || err2 != nil || r.Group != group.ID(g.ID) || gk.Epoch != r.Epoch || r.Signer.PeerID() != pk.From {
			if err := tx.DeleteParkedGroupKey(g.ID, pk.Epoch, pk.From); err != nil {
				return nil, err
			}
			continue
		}
		res, _, err := Adopt(tx, group.ID(g.ID), chain, r)
		if err != nil {
			continue // does not follow our roster of the epoch before: waits
		}
		if err := tx.DeleteParkedGroupKey(g.ID, pk.Epoch, pk.From); err != nil {
			return nil, err
		}
		if res == Lost || res == Stale || res == Gap {
			continue
		}
		ok, err := PutKey(tx, g, chain, gk, pk.Key, pk.From, self)
		if err != nil {
			return nil, err
		}
		if ok {
			epochs = append(epochs, gk.Epoch)
		}
	}
	return epochs, nil
}
