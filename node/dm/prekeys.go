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

// handlePreKeys answers one bundle request, within the per-peer rate limit,
// with a bundle holding a freshly minted one-time prekey, or none when the
// peer has had its share of them or the node holds its cap.
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
	} else if b, err := d.mintBundle(d.now(), p); err != nil {
		d.env.Log.Error("minting bundle failed", "err", err)
		resp.Error = "internal error"
	} else if resp.Bundle, err = b.MarshalBinary(); err != nil {
		d.env.Log.Error("encoding bundle failed", "err", err)
		resp.Bundle, resp.Error = nil, "internal error"
	} else if d.cfg.Mailboxes != nil {
		resp.Mailboxes = d.cfg.Mailboxes.Published()
	}
	if err := frame.Write(s, &resp); err != nil {
		d.env.Log.Debug("prekey response not sent", "to", p, "err", err)
		s.Reset()
	}
}

// checkBundle decodes a bundle and verifies it is p's.
func checkBundle(p peer.ID, enc []byte) (identity.Bundle, error) {
	b, err := identity.UnmarshalBundle(enc)
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
	b, err := checkBundle(p, resp.Bundle)
	if err != nil {
		return identity.Bundle{}, err
	}
	if d.cfg.Mailboxes != nil && len(resp.Mailboxes) > 0 {
		if err := d.cfg.Mailboxes.LearnPublished(p, resp.Mailboxes); err != nil {
			d.env.Log.Info("prekeys: mailbox list refused", "from", p, "err", err)
		}
	}
	return b, nil
}

const (
	// A signed prekey is published for signedPreKeyRotate, then kept for
	// signedPreKeyGrace after its successor replaces it (a first message
	// made from a bundle fetched just before may wait in an outbox), then
	// deleted. Its signed expiry is the end of that grace: a first message
	// naming it after that is refused, deleted or not.
	signedPreKeyRotate   = 7 * 24 * time.Hour
	signedPreKeyGrace    = 14 * 24 * time.Hour
	signedPreKeyLifetime = signedPreKeyRotate + signedPreKeyGrace
	// oneTimePreKeyLifetime: a one-time prekey handed out and not used
	// within it is deleted, and a first message naming it after that is
	// refused. It is useless by then anyway: the signed prekey of its
	// bundle has expired. With the per-peer allowance (one an hour, burst
	// 3: requests.Limits.OneTimePreKey*) one peer holds at most
	// 3 + 24 × 21 = 507 of them, a quarter of the cap.
	oneTimePreKeyLifetime = signedPreKeyLifetime
	// maxOneTimePreKeys bounds the one-time prekeys handed out and not yet
	// used or expired; past it, bundles carry none (X3DH works without,
	// as Signal's does when its one-time prekeys run out).
	maxOneTimePreKeys = 2000
	// preKeySweepInterval is how often the node rotates its signed prekey
	// when due and deletes expired prekeys.
	preKeySweepInterval = time.Hour
)

// now is the time prekeys are minted, rotated, expired and checked at.
func (d *Service) now() time.Time {
	if d.cfg.Now != nil {
		return d.cfg.Now()
	}
	return time.Now()
}

func nextKeyID(tx *storage.Txn) (uint32, error) {
	n, err := tx.NextSequence("prekey")
	if err != nil {
		return 0, err
	}
	return uint32(n), nil
}

// currentSignedPreKey returns the signed prekey to publish, rotating it once
// it has been published for signedPreKeyRotate (only its grace is left).
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
		if spk.Expires.Sub(now) > signedPreKeyGrace {
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

// mintBundle makes a bundle for p with a fresh one-time prekey, stored in
// the same transaction, if p may have one more and the cap allows.
func (d *Service) mintBundle(now time.Time, p peer.ID) (identity.Bundle, error) {
	withOPK := d.cfg.Gate.AllowOneTimePreKey(p)
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
		if withOPK && count < maxOneTimePreKeys {
			kid, err := nextKeyID(tx)
			if err != nil {
				return err
			}
			pair := identity.NewOneTimePreKey(kid)
			enc, err := pair.MarshalBinary()
			if err != nil {
				return err
			}
			if err := tx.PutOneTimePreKey(kid, now, enc); err != nil {
				return err
			}
			opk = &pair.OneTimePreKey
		}
		b = d.env.Identity.NewBundle(spk.SignedPreKey, opk, d.cfg.StampDifficulty)
		return nil
	})
	return b, err
}

// MailboxBundle is the bundle our mailboxes serve for us while we are
// away: the current signed prekey and no one-time prekey (a mailbox could
// hand one out to anyone, and would use them all up), as Signal's server
// does when its one-time prekeys run out.
func (d *Service) MailboxBundle() ([]byte, error) {
	var b identity.Bundle
	err := d.env.Store.Update(func(tx *storage.Txn) error { // the first signed prekey is made on first use
		spk, err := currentSignedPreKey(tx, d.env.Identity, d.now())
		if err != nil {
			return err
		}
		b = d.env.Identity.NewBundle(spk.SignedPreKey, nil, d.cfg.StampDifficulty)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b.MarshalBinary()
}

// sweepPreKeys rotates the signed prekey when due and deletes the prekeys
// expired at now: signed prekeys past their signed expiry (never the
// current one, which rotation replaces first), one-time prekeys unused for
// oneTimePreKeyLifetime. A one-time prekey stored without its time (before
// times were kept) starts its lifetime now.
func (d *Service) sweepPreKeys(now time.Time) (signed, oneTime int, err error) {
	err = d.env.Store.Update(func(tx *storage.Txn) error {
		signed, oneTime = 0, 0
		cur, err := currentSignedPreKey(tx, d.env.Identity, now)
		if err != nil {
			return err
		}
		ids, err := tx.SignedPreKeyIDs()
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id == cur.ID {
				continue
			}
			b, err := tx.SignedPreKey(id)
			if err != nil {
				return err
			}
			spk, err := identity.UnmarshalSignedPreKeyPair(b)
			if err != nil {
				return fmt.Errorf("signed prekey %d: %w", id, err)
			}
			if !now.Before(spk.Expires) {
				if err := tx.DeleteSignedPreKey(id); err != nil {
					return err
				}
				signed++
			}
		}
		times, err := tx.OneTimePreKeyTimes()
		if err != nil {
			return err
		}
		for id, made := range times {
			switch {
			case made.IsZero():
				err = tx.SetOneTimePreKeyTime(id, now)
			case now.Sub(made) >= oneTimePreKeyLifetime:
				err = tx.DeleteOneTimePreKey(id)
				oneTime++
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return signed, oneTime, err
}

// runPreKeySweeper sweeps prekeys now and every preKeySweepInterval until
// ctx ends.
func (d *Service) runPreKeySweeper(ctx context.Context) {
	t := time.NewTicker(preKeySweepInterval)
	defer t.Stop()
	for {
		signed, oneTime, err := d.sweepPreKeys(d.now())
		switch {
		case err != nil:
			d.env.Log.Error("prekeys: sweep failed", "err", err)
		case signed+oneTime > 0:
			d.env.Log.Debug("prekeys: expired ones deleted", "signed", signed, "one_time", oneTime)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
