package mailbox

import (
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/keys"
	mbcrypto "github.com/backchannel/backchannel/crypto/mailbox"
	"github.com/backchannel/backchannel/crypto/stamp"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/node/mailbox/mailboxpb"
	"github.com/backchannel/backchannel/storage"
)

// handle serves one mailbox stream: one request, one response.
func (s *Service) handle(st network.Stream) {
	from := st.Conn().RemotePeer()
	var req mailboxpb.Request
	err := frame.Serve(st, exchangeTimeout, &req, maxRequestSize, func() proto.Message {
		resp, err := s.answer(from, &req)
		if err != nil {
			if errors.Is(err, errs.ErrProtocol) {
				s.env.Log.Warn("mailbox: bad request", "from", from, "err", err)
			} else {
				s.env.Log.Debug("mailbox: request refused", "from", from, "err", err)
			}
			return &mailboxpb.Response{Error: err.Error()}
		}
		return resp
	})
	if err != nil {
		s.env.Log.Warn("mailbox: malformed request", "from", from, "err", err)
	}
}

func (s *Service) answer(from peer.ID, req *mailboxpb.Request) (*mailboxpb.Response, error) {
	switch b := req.Body.(type) {
	case *mailboxpb.Request_Appoint:
		return &mailboxpb.Response{}, s.serveAppoint(from, b.Appoint)
	case *mailboxpb.Request_Revoke:
		return &mailboxpb.Response{}, s.update(func(tx *storage.Txn) error { return tx.DeleteMailbox(from) })
	case *mailboxpb.Request_Deposit:
		return s.serveDeposit(from, b.Deposit)
	case *mailboxpb.Request_Fetch:
		return s.serveFetch(from, b.Fetch)
	case *mailboxpb.Request_Delete:
		return &mailboxpb.Response{}, s.serveDelete(from, b.Delete)
	case *mailboxpb.Request_PutBundle:
		return &mailboxpb.Response{}, s.servePutBundle(from, b.PutBundle.Bundle)
	case *mailboxpb.Request_GetBundle:
		return s.serveGetBundle(from, b.GetBundle)
	case *mailboxpb.Request_Notify:
		if s.isMine(from) {
			s.kick(from)
		}
		return &mailboxpb.Response{}, nil
	}
	return nil, fmt.Errorf("%w: empty or unknown mailbox request", errs.ErrProtocol)
}

// serveAppoint registers from as a recipient this node holds mail for.
func (s *Service) serveAppoint(from peer.ID, a *mailboxpb.Appoint) error {
	app, err := mbcrypto.UnmarshalAppointment(a.Appointment)
	if err != nil {
		return fmt.Errorf("%w: %w", errs.ErrProtocol, err)
	}
	now := s.now()
	if err := app.Verify(now); err != nil {
		return fmt.Errorf("%w: appointment: %w", errs.ErrProtocol, err)
	}
	want, err := keys.PublicKeyFromPeerID(from)
	if err != nil || app.Recipient != want || app.Mailbox != s.env.Net.Host().ID() {
		return fmt.Errorf("%w: appointment of another recipient or mailbox", errs.ErrProtocol)
	}
	if len(a.CapabilityKey) != len(mbcrypto.CapabilityKey{}) || a.StampDifficulty > stamp.MaxDifficulty {
		return fmt.Errorf("%w: capability key of %d bytes, stamp difficulty %d", errs.ErrProtocol, len(a.CapabilityKey), a.StampDifficulty)
	}
	if len(a.Bundle) > 0 {
		if err := checkBundle(from, a.Bundle, now); err != nil {
			return err
		}
	}
	if app.Expires.After(now.Add(s.cfg.Limits.MaxAppointment)) {
		return fmt.Errorf("%w: appointment until %s: at most %s ahead", ErrRefused, app.Expires.Format(time.DateOnly), s.cfg.Limits.MaxAppointment)
	}
	return s.update(func(tx *storage.Txn) error {
		_, err := tx.MailboxRegistration(from)
		isNew := errors.Is(err, storage.ErrNotFound)
		if err != nil && !isNew {
			return err
		}
		if isNew {
			if ok, err := s.willServe(tx, from); err != nil {
				return err
			} else if !ok {
				return fmt.Errorf("%w: this node holds mail only for its contacts, and only if its user agreed", ErrRefused)
			}
			regs, err := tx.MailboxRegistrations()
			if err != nil {
				return err
			}
			if len(regs) >= s.cfg.Limits.MaxRecipients {
				return fmt.Errorf("%w: holding mail for %d identities already", ErrRefused, len(regs))
			}
		}
		return tx.PutMailboxRegistration(storage.MailboxRegistration{
			Recipient: from, Appointment: a.Appointment, CapabilityKey: a.CapabilityKey,
			StampDifficulty: uint8(a.StampDifficulty), Appointed: now, Expires: app.Expires, Bundle: a.Bundle,
		})
	})
}

// willServe reports whether the node agrees to hold mail for p: a helper
// for anyone, another node for its accepted contacts once its user agreed.
func (s *Service) willServe(tx *storage.Txn, p peer.ID) (bool, error) {
	if s.cfg.Helper {
		return true, nil
	}
	on, err := serveContacts(tx)
	if err != nil || !on {
		return false, err
	}
	c, err := tx.Contact(p)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && c.State == storage.ContactAccepted, err
}

// serveDeposit stores a deposit's items, as many as the limits allow, in one
// transaction, and answers how many it took.
func (s *Service) serveDeposit(from peer.ID, d *mailboxpb.Deposit) (*mailboxpb.Response, error) {
	rcpt, err := peer.IDFromBytes(d.Recipient)
	if err != nil {
		return nil, fmt.Errorf("%w: recipient: %w", errs.ErrProtocol, err)
	}
	if len(d.Items) == 0 {
		return &mailboxpb.Response{}, nil
	}
	size := 0
	for _, it := range d.Items {
		if len(it.Sealed) == 0 || len(it.Sealed) > mbcrypto.MaxSealed {
			return nil, fmt.Errorf("%w: sealed item of %d bytes", errs.ErrProtocol, len(it.Sealed))
		}
		size += len(it.Sealed)
	}
	if size > maxDepositBytes+mbcrypto.MaxSealed {
		return nil, fmt.Errorf("%w: deposit of %d bytes", errs.ErrProtocol, size)
	}
	now := s.now()
	var (
		resp   mailboxpb.Response
		notify bool
	)
	err = s.update(func(tx *storage.Txn) error {
		resp = mailboxpb.Response{}
		reg, err := tx.MailboxRegistration(rcpt)
		if errors.Is(err, storage.ErrNotFound) || err == nil && !now.Before(reg.Expires) {
			return fmt.Errorf("%w: no mailbox here for %s", ErrRefused, rcpt.ShortString())
		}
		if err != nil {
			return err
		}
		dep, err := s.depositor(from, rcpt, reg, d)
		if err != nil {
			return err
		}
		if !s.limiters.allow(dep, rcpt) {
			resp.Refused = "rate limited: try again later"
			return nil
		}
		items, bytes, err := tx.MailboxDepositor(rcpt, dep.key)
		if err != nil {
			return err
		}
		for _, it := range d.Items {
			if reason := s.overLimit(reg, dep, items, bytes, len(it.Sealed)); reason != "" {
				resp.Refused = reason
				break
			}
			if dep.stranger {
				if reason := dep.checkStamp(it, reg.StampDifficulty, now); reason != "" {
					resp.Refused = reason
					break
				}
			}
			mi := storage.MailboxItem{Recipient: rcpt, Depositor: dep.key, Stranger: dep.stranger, Deposited: now, Sealed: it.Sealed}
			if err := tx.PutMailboxItem(&mi); err != nil {
				return err
			}
			items++
			bytes += int64(len(it.Sealed))
			reg.Items++
			reg.Bytes += int64(len(it.Sealed))
			if dep.stranger {
				reg.StrangerItems++
			}
			resp.Accepted++
		}
		notify = resp.Accepted > 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.env.Log.Debug("mailbox: deposit", "from", from, "recipient", rcpt, "items", len(d.Items), "accepted", resp.Accepted,
		"capability", len(d.Capability) > 0)
	if notify {
		s.notify(rcpt)
	}
	return &resp, nil
}

// checkBundle checks a bundle a recipient gives its mailbox to serve: its
// own, current, and without a one-time prekey.
func checkBundle(from peer.ID, b []byte, now time.Time) error {
	if len(b) > maxBundleSize {
		return fmt.Errorf("%w: bundle of %d bytes", errs.ErrProtocol, len(b))
	}
	bundle, err := identity.UnmarshalBundle(b)
	if err != nil {
		return fmt.Errorf("%w: bundle: %w", errs.ErrProtocol, err)
	}
	want, err := keys.PublicKeyFromPeerID(from)
	if err != nil || bundle.Identity.Key != want {
		return fmt.Errorf("%w: bundle of another identity", errs.ErrProtocol)
	}
	if bundle.OneTimePreKey != nil {
		return fmt.Errorf("%w: a bundle for a mailbox carries no one-time prekey", errs.ErrProtocol)
	}
	if err := bundle.Verify(now); err != nil {
		return fmt.Errorf("%w: bundle: %w", errs.ErrProtocol, err)
	}
	return nil
}

// servePutBundle replaces the bundle served for from.
func (s *Service) servePutBundle(from peer.ID, b []byte) error {
	if err := checkBundle(from, b, s.now()); err != nil {
		return err
	}
	return s.update(func(tx *storage.Txn) error {
		reg, err := tx.MailboxRegistration(from)
		if errors.Is(err, storage.ErrNotFound) {
			return fmt.Errorf("%w: no mailbox here for you", ErrRefused)
		}
		if err != nil {
			return err
		}
		reg.Bundle = b
		return tx.PutMailboxRegistration(reg)
	})
}

// serveGetBundle hands anyone the bundle a recipient left here.
func (s *Service) serveGetBundle(from peer.ID, g *mailboxpb.GetBundle) (*mailboxpb.Response, error) {
	rcpt, err := peer.IDFromBytes(g.Recipient)
	if err != nil {
		return nil, fmt.Errorf("%w: recipient: %w", errs.ErrProtocol, err)
	}
	if !s.limiters.allowBundle(from) {
		return nil, fmt.Errorf("%w: rate limited: try again later", ErrRefused)
	}
	var resp mailboxpb.Response
	err = s.view(func(tx *storage.Txn) error {
		reg, err := tx.MailboxRegistration(rcpt)
		if errors.Is(err, storage.ErrNotFound) || err == nil && (!s.now().Before(reg.Expires) || len(reg.Bundle) == 0) {
			return fmt.Errorf("%w: no bundle here for %s", ErrRefused, rcpt.ShortString())
		}
		resp.Bundle = reg.Bundle
		return err
	})
	return &resp, err
}

// depositorOf is who a deposit counts against.
type depositorOf struct {
	key      []byte // the capability's label, or the stranger's peer ID
	stranger bool
	sender   keys.PublicKey // a stranger's key, which its stamps name
	rcpt     keys.PublicKey
}

// depositor checks a deposit's capability; without one the depositor is a
// stranger, known by its peer ID, and must pay with stamps.
func (s *Service) depositor(from, rcpt peer.ID, reg storage.MailboxRegistration, d *mailboxpb.Deposit) (depositorOf, error) {
	rk, err := keys.PublicKeyFromPeerID(rcpt)
	if err != nil {
		return depositorOf{}, fmt.Errorf("%w: recipient: %w", errs.ErrProtocol, err)
	}
	if len(d.Capability) > 0 {
		c, err := mbcrypto.CapabilityFromBytes(d.Capability)
		if err != nil {
			return depositorOf{}, fmt.Errorf("%w: capability: %w", errs.ErrProtocol, err)
		}
		var k mbcrypto.CapabilityKey
		copy(k[:], reg.CapabilityKey)
		if !k.Check(c) {
			return depositorOf{}, fmt.Errorf("%w: capability not valid for %s (revoked, or a new appointment replaced it)", ErrRefused, rcpt.ShortString())
		}
		label := c.Label()
		return depositorOf{key: label[:], rcpt: rk}, nil
	}
	sk, err := keys.PublicKeyFromPeerID(from)
	if err != nil {
		return depositorOf{}, fmt.Errorf("%w: depositor: %w", errs.ErrProtocol, err)
	}
	return depositorOf{key: []byte(from), stranger: true, sender: sk, rcpt: rk}, nil
}

// overLimit says why one more item of n bytes from dep may not be held.
func (s *Service) overLimit(reg storage.MailboxRegistration, dep depositorOf, items int, bytes int64, n int) string {
	l := s.cfg.Limits
	switch {
	case reg.Items >= l.PerRecipientItems || reg.Bytes+int64(n) > l.PerRecipientBytes:
		return "the recipient's mailbox is full"
	case dep.stranger && items >= l.PerStrangerItems:
		return "too many messages held from you: wait for the recipient to accept"
	case dep.stranger && reg.StrangerItems >= l.StrangerItems:
		return "too many requests held for the recipient"
	case items >= l.PerDepositorItems || bytes+int64(n) > l.PerDepositorBytes:
		return "too much held from you for this recipient"
	}
	return ""
}

// checkStamp checks a stranger's item pays the recipient's stamp.
func (dep depositorOf) checkStamp(it *mailboxpb.Item, difficulty uint8, now time.Time) string {
	if difficulty == 0 {
		return ""
	}
	if len(it.Stamp) == 0 || len(it.MessageHash) != len(stamp.MessageHash{}) {
		return "a stamp is required"
	}
	st, err := stamp.UnmarshalStamp(it.Stamp)
	if err != nil {
		return "bad stamp"
	}
	var h stamp.MessageHash
	copy(h[:], it.MessageHash)
	if err := st.Verify(stamp.Context{Recipient: dep.rcpt, Sender: dep.sender, MessageHash: h}, difficulty, now); err != nil {
		return "bad stamp"
	}
	return ""
}

// serveFetch hands a recipient its items after a sequence number.
func (s *Service) serveFetch(from peer.ID, f *mailboxpb.Fetch) (*mailboxpb.Response, error) {
	var resp mailboxpb.Response
	err := s.view(func(tx *storage.Txn) error {
		resp = mailboxpb.Response{}
		if _, err := tx.MailboxRegistration(from); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return fmt.Errorf("%w: no mailbox here for you", ErrRefused)
			}
			return err
		}
		items, err := tx.MailboxItems(from, f.After, maxFetchItems+1, maxFetchBytes)
		if err != nil {
			return err
		}
		if len(items) > maxFetchItems {
			items, resp.More = items[:maxFetchItems], true
		} else if len(items) > 0 {
			more, err := tx.MailboxItems(from, items[len(items)-1].Seq, 1, 1)
			if err != nil {
				return err
			}
			resp.More = len(more) > 0
		}
		for _, it := range items {
			resp.Items = append(resp.Items, &mailboxpb.Stored{Seq: it.Seq, Sealed: it.Sealed, DepositedUnixNano: it.Deposited.UnixNano()})
		}
		return nil
	})
	return &resp, err
}

// serveDelete deletes what the recipient committed.
func (s *Service) serveDelete(from peer.ID, d *mailboxpb.Delete) error {
	if len(d.Seqs) > 4*maxFetchItems {
		return fmt.Errorf("%w: deleting %d items at once", errs.ErrProtocol, len(d.Seqs))
	}
	return s.update(func(tx *storage.Txn) error {
		for _, seq := range d.Seqs {
			if _, err := tx.DeleteMailboxItem(from, seq); err != nil {
				return err
			}
		}
		return nil
	})
}

// notify tells a connected recipient that mail arrived; one notice at a
// time per recipient. A recipient not connected drains when it connects.
func (s *Service) notify(rcpt peer.ID) {
	h := s.env.Net.Host()
	if h.Network().Connectedness(rcpt) != network.Connected {
		return
	}
	s.mu.Lock()
	if s.notifying[rcpt] {
		s.mu.Unlock()
		return
	}
	s.notifying[rcpt] = true
	s.mu.Unlock()
	s.goOwned(func() {
		defer func() {
			s.mu.Lock()
			delete(s.notifying, rcpt)
			s.mu.Unlock()
		}()
		var resp mailboxpb.Response
		req := &mailboxpb.Request{Body: &mailboxpb.Request_Notify{Notify: &mailboxpb.Notify{}}}
		if err := frame.Exchange(network.WithAllowLimitedConn(s.ctx, "mailbox"), h, rcpt, Protocol, exchangeTimeout, req, &resp, maxResponseSize); err != nil {
			s.env.Log.Debug("mailbox: notice not sent", "to", rcpt, "err", err)
		}
	})
}

// runSweeps deletes expired items and appointments every sweepInterval.
func (s *Service) runSweeps(ctx interface {
	Done() <-chan struct{}
}) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	for {
		if err := s.Sweep(); err != nil {
			s.env.Log.Warn("mailbox: sweep failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Sweep deletes items held longer than the TTL and the queues of expired
// appointments.
func (s *Service) Sweep() error {
	now := s.now()
	for {
		var n int
		err := s.update(func(tx *storage.Txn) error {
			items, err := tx.MailboxItemsBefore(now.Add(-s.cfg.Limits.TTL), 1000)
			if err != nil {
				return err
			}
			n = len(items)
			for _, it := range items {
				if _, err := tx.DeleteMailboxItem(it.Recipient, it.Seq); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if n < 1000 {
			break
		}
	}
	return s.update(func(tx *storage.Txn) error {
		regs, err := tx.MailboxRegistrations()
		if err != nil {
			return err
		}
		for _, r := range regs {
			if !now.Before(r.Expires) {
				if err := tx.DeleteMailbox(r.Recipient); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
