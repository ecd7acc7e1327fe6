package dm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/storage"
)

// preKeyTimeout bounds one bundle exchange.
const preKeyTimeout = 10 * time.Second

// handlePreKeys answers one bundle request with a bundle holding a freshly
// minted one-time prekey, within the per-peer rate limit.
func (d *Service) handlePreKeys(s network.Stream) {
	defer s.Close()
	p := s.Conn().RemotePeer()
	_ = s.SetDeadline(time.Now().Add(preKeyTimeout))
	var req dmpb.PreKeyRequest
	if err := frame.Read(bufio.NewReader(s), &req, maxFrameSize); err != nil {
		d.env.Log.Warn("prekey request malformed", "from", p, "err", err)
		s.Reset()
		return
	}
	var resp dmpb.PreKeyResponse
	if !d.cfg.Gate.AllowPreKey(p) {
		resp.Error = "rate limited"
	} else if b, err := d.mintBundle(time.Now()); err != nil {
		d.env.Log.Error("minting bundle failed", "err", err)
		resp.Error = "internal error"
	} else if resp.Bundle, err = b.MarshalBinary(); err != nil {
		d.env.Log.Error("encoding bundle failed", "err", err)
		resp.Bundle, resp.Error = nil, "internal error"
	}
	if err := frame.Write(s, &resp); err != nil {
		d.env.Log.Debug("prekey response not sent", "to", p, "err", err)
		s.Reset()
	}
}

// fetchBundle asks p for a prekey bundle and verifies it is p's.
func (d *Service) fetchBundle(ctx context.Context, p peer.ID) (identity.Bundle, error) {
	ctx, cancel := context.WithTimeout(ctx, preKeyTimeout)
	defer cancel()
	s, err := d.env.Net.Host().NewStream(ctx, p, ProtocolPreKeys)
	if err != nil {
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	defer s.Close()
	defer context.AfterFunc(ctx, func() { s.Reset() })() // Close ends a blocked exchange
	_ = s.SetDeadline(time.Now().Add(preKeyTimeout))
	if err := frame.Write(s, &dmpb.PreKeyRequest{}); err != nil {
		s.Reset()
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	var resp dmpb.PreKeyResponse
	if err := frame.Read(bufio.NewReader(s), &resp, maxFrameSize); err != nil {
		s.Reset()
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	if resp.Error != "" {
		return identity.Bundle{}, fmt.Errorf("prekeys: %s refused: %s", p.ShortString(), resp.Error)
	}
	b, err := identity.UnmarshalBundle(resp.Bundle)
	if err != nil {
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	want, err := keys.PublicKeyFromPeerID(p)
	if err != nil {
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	if b.Identity.Key != want {
		return identity.Bundle{}, fmt.Errorf("prekeys: %w: bundle of another identity", errs.ErrProtocol)
	}
	if err := b.Verify(time.Now()); err != nil {
		return identity.Bundle{}, fmt.Errorf("prekeys: %w", err)
	}
	return b, nil
}

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
func (d *Service) mintBundle(now time.Time) (identity.Bundle, error) {
	var b identity.Bundle
	err := d.env.Store.Update(func(tx *storage.Txn) error {
		spk, err := currentSignedPreKey(tx, d.env.Identity, now)
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
		b = d.env.Identity.NewBundle(spk.SignedPreKey, opk, d.cfg.StampDifficulty)
		return nil
	})
	return b, err
}
