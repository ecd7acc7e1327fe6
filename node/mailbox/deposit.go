package mailbox

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/keys"
	mbcrypto "github.com/backchannel/backchannel/crypto/mailbox"
	"github.com/backchannel/backchannel/crypto/stamp"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/mailbox/mailboxpb"
	"github.com/backchannel/backchannel/node/p2p"
	"github.com/backchannel/backchannel/storage"
)

// Deposit seals frames, DM frames our outbox made for p, to p's identity
// key to, and deposits them in the first of p's mailboxes that takes them.
// It returns how many leading frames a mailbox stored (fsynced); the rest
// stay with the caller. errs.ErrNoMailbox: p told us of no valid mailbox.
func (s *Service) Deposit(ctx context.Context, p peer.ID, to keys.DHPublic, frames [][]byte) (int, error) {
	targets, capability, err := s.targets(p)
	if err != nil {
		return 0, err
	}
	self := s.env.Net.Host().ID()
	sealed, err := mbcrypto.SealBatch(to, p, self, frames)
	if err != nil {
		return 0, err
	}
	items := make([]*mailboxpb.Item, len(sealed))
	for i, b := range sealed {
		items[i] = &mailboxpb.Item{Sealed: b}
		if len(capability) == 0 {
			// As a stranger we pay the mailbox with the stamps our
			// messages carry anyway.
			items[i].Stamp, items[i].MessageHash = stampOf(frames[i])
		}
	}
	var lastErr error
	for _, t := range targets {
		h, done, err := s.depositHost(ctx, t, capability != nil)
		if err != nil {
			lastErr = err
			continue
		}
		n, err := s.depositAt(ctx, h, t.mb, p, capability, items)
		done()
		if n > 0 || err == nil {
			return n, err
		}
		lastErr = err
	}
	return 0, lastErr
}

// depositHost is the host to deposit at t from. A contact, who names
// itself to the mailbox only by its capability's label, deposits from a
// throwaway identity, so that the mailbox cannot tell which contact
// deposited (it still sees the address the connection comes from, and when).
// A stranger deposits as itself: its stamps name it anyway. done closes a
// throwaway host.
func (s *Service) depositHost(ctx context.Context, t target, sealedSender bool) (host.Host, func(), error) {
	own := func() (host.Host, func(), error) {
		if err := s.reach(ctx, t); err != nil {
			return nil, nil, err
		}
		return s.env.Net.Host(), func() {}, nil
	}
	if !sealedSender {
		return own()
	}
	s.env.Net.AddAddrs(t.mb, t.addrs)
	h, err := s.env.Net.Ephemeral(ctx, t.mb)
	if errors.Is(err, p2p.ErrNoEphemeral) {
		return own() // a test's mocknet
	}
	if err != nil {
		// No address that works: find the mailbox as ourselves (the DHT),
		// then try again.
		if err := s.reach(ctx, t); err != nil {
			return nil, nil, err
		}
		if h, err = s.env.Net.Ephemeral(ctx, t.mb); err != nil {
			return nil, nil, err
		}
	}
	return h, func() { h.Close() }, nil
}

// Bundle fetches p's prekey bundle from the first of p's mailboxes that
// serves one: a first message to p can then be deposited while p is away.
// The caller verifies it is p's.
func (s *Service) Bundle(ctx context.Context, p peer.ID) ([]byte, error) {
	targets, _, err := s.targets(p)
	if err != nil {
		return nil, err
	}
	var lastErr error
	for _, t := range targets {
		if err := s.reach(ctx, t); err != nil {
			lastErr = err
			continue
		}
		req := &mailboxpb.Request{Body: &mailboxpb.Request_GetBundle{GetBundle: &mailboxpb.GetBundle{Recipient: []byte(p)}}}
		resp, err := s.exchange(ctx, s.env.Net.Host(), t.mb, req)
		if err == nil && len(resp.Bundle) > 0 {
			return resp.Bundle, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// target is a mailbox of a peer, with the address hints we were given.
type target struct {
	mb    peer.ID
	addrs []string
}

// reach connects to a mailbox, trying the hints we were given too.
func (s *Service) reach(ctx context.Context, t target) error {
	s.env.Net.AddAddrs(t.mb, t.addrs)
	return s.env.Net.Connect(ctx, t.mb)
}

// targets lists p's valid mailboxes, and the capability p gave us (nil: we
// deposit as a stranger). errs.ErrNoMailbox: none.
func (s *Service) targets(p peer.ID) ([]target, []byte, error) {
	var l *mailboxpb.MailboxList
	if err := s.view(func(tx *storage.Txn) (err error) { l, err = readList(tx, ofKey(p)); return err }); err != nil {
		return nil, nil, err
	}
	now := s.now()
	self := s.env.Net.Host().ID()
	var out []target
	for _, e := range l.Entries {
		if a, err := mbcrypto.UnmarshalAppointment(e.Appointment); err == nil && now.Before(a.Expires) && a.Mailbox != self {
			out = append(out, target{a.Mailbox, e.Addrs})
		}
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("%w: %s", errs.ErrNoMailbox, p.ShortString())
	}
	return out, l.Capability, nil
}

// depositAt sends items to mb from h in requests of at most maxDepositBytes.
func (s *Service) depositAt(ctx context.Context, h host.Host, mb, rcpt peer.ID, capability []byte, items []*mailboxpb.Item) (int, error) {
	accepted := 0
	for len(items) > 0 {
		n, size := 0, 0
		for n < len(items) && (n == 0 || size+len(items[n].Sealed) <= maxDepositBytes) {
			size += len(items[n].Sealed)
			n++
		}
		req := &mailboxpb.Request{Body: &mailboxpb.Request_Deposit{Deposit: &mailboxpb.Deposit{
			Recipient: []byte(rcpt), Capability: capability, Items: items[:n],
		}}}
		resp, err := s.exchange(ctx, h, mb, req)
		if err != nil {
			return accepted, err
		}
		got := int(resp.Accepted)
		if got > n {
			return accepted, fmt.Errorf("%w: mailbox %s claims %d of %d items", errs.ErrProtocol, mb.ShortString(), got, n)
		}
		accepted += got
		if got < n {
			return accepted, fmt.Errorf("%w: %s: %s", ErrRefused, mb.ShortString(), resp.Refused)
		}
		items = items[n:]
	}
	return accepted, nil
}

// stampOf returns the stamp a DM frame's envelope carries and the hash of
// its ratchet message, which the stamp binds.
func stampOf(fr []byte) (st, hash []byte) {
	var f dmpb.Frame
	if err := proto.Unmarshal(fr, &f); err != nil || f.GetEnvelope() == nil || len(f.GetEnvelope().Stamp) == 0 {
		return nil, nil
	}
	h := stamp.HashMessage(f.GetEnvelope().RatchetMessage)
	return f.GetEnvelope().Stamp, h[:]
}
