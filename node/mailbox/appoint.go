package mailbox

import (
	"context"
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	mbcrypto "github.com/backchannel/backchannel/crypto/mailbox"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/node/mailbox/mailboxpb"
	"github.com/backchannel/backchannel/storage"
)

// DefaultAppointment is how long an appointment lasts unless asked.
const DefaultAppointment = 90 * 24 * time.Hour

// Appointed is one of our mailboxes.
type Appointed struct {
	Mailbox   peer.ID
	Issued    time.Time
	Expires   time.Time
	LastDrain time.Time // zero: not drained since the node started
	DrainErr  string    // why the last drain failed, if it did
}

// Appoint asks mb to hold our mail until until (DefaultAppointment from now
// when zero) and, once it agreed, tells our contacts. Appointing a mailbox
// again renews it.
func (s *Service) Appoint(ctx context.Context, mb peer.ID, until time.Time) (Appointed, error) {
	self := s.env.Net.Host().ID()
	if mb == self {
		return Appointed{}, fmt.Errorf("%w: a node cannot be its own mailbox", errs.ErrSelf)
	}
	now := s.now().Truncate(time.Second)
	if until.IsZero() {
		until = now.Add(DefaultAppointment)
	}
	if !until.After(now) {
		return Appointed{}, fmt.Errorf("an appointment must end in the future, not %s", until.Format(time.RFC3339))
	}
	app, err := mbcrypto.NewAppointment(s.env.Identity.Signing(), mb, now, until)
	if err != nil {
		return Appointed{}, err
	}
	ab, err := app.MarshalBinary()
	if err != nil {
		return Appointed{}, err
	}
	var (
		ck    mbcrypto.CapabilityKey
		count int
	)
	err = s.update(func(tx *storage.Txn) error {
		own, err := readList(tx, ownKey)
		if err != nil {
			return err
		}
		count = len(own.Entries)
		if _, err := labelSecret(tx); err != nil {
			return err
		}
		ck, err = capabilityKey(tx)
		return err
	})
	if err != nil {
		return Appointed{}, err
	}
	if count >= maxMailboxes && !s.isMine(mb) {
		return Appointed{}, fmt.Errorf("%w: at most %d mailboxes; revoke one first", ErrRefused, maxMailboxes)
	}
	bundle, err := s.cfg.Sender.MailboxBundle()
	if err != nil {
		return Appointed{}, err
	}
	if err := s.env.Net.Connect(ctx, mb); err != nil {
		return Appointed{}, err
	}
	req := &mailboxpb.Request{Body: &mailboxpb.Request_Appoint{Appoint: &mailboxpb.Appoint{
		Appointment: ab, CapabilityKey: ck[:], StampDifficulty: uint32(s.cfg.StampDifficulty), Bundle: bundle,
	}}}
	if _, err := s.exchange(ctx, s.env.Net.Host(), mb, req); err != nil {
		return Appointed{}, err
	}
	s.mu.Lock()
	s.uploaded[mb] = sha256.Sum256(bundle)
	s.mu.Unlock()
	err = s.update(func(tx *storage.Txn) error {
		own, err := readList(tx, ownKey)
		if err != nil {
			return err
		}
		own.Entries = append(without(own.Entries, mb), &mailboxpb.MailboxList_Entry{Appointment: ab})
		own.Version++
		return writeList(tx, ownKey, own)
	})
	if err != nil {
		return Appointed{}, err
	}
	s.setMine(mb, true)
	s.goOwned(s.pushAll)
	s.kick(mb)
	return Appointed{Mailbox: mb, Issued: app.Issued, Expires: app.Expires}, nil
}

// Revoke ends mb's appointment: it drains mb first if it can, asks mb to
// delete what it holds for us, and tells our contacts. The appointment is
// dropped from our list even if mb cannot be reached; it then expires.
func (s *Service) Revoke(ctx context.Context, mb peer.ID) error {
	if !s.isMine(mb) {
		return fmt.Errorf("%w: %s is not one of our mailboxes", errs.ErrNotFound, mb.ShortString())
	}
	reachable := s.env.Net.Connect(ctx, mb) == nil
	if reachable {
		if err := s.drain(ctx, mb); err != nil {
			s.env.Log.Warn("mailbox: not drained before revoking", "mailbox", mb, "err", err)
		}
	}
	err := s.update(func(tx *storage.Txn) error {
		own, err := readList(tx, ownKey)
		if err != nil {
			return err
		}
		own.Entries = without(own.Entries, mb)
		own.Version++
		return writeList(tx, ownKey, own)
	})
	if err != nil {
		return err
	}
	s.setMine(mb, false)
	s.goOwned(s.pushAll)
	if reachable {
		req := &mailboxpb.Request{Body: &mailboxpb.Request_Revoke{Revoke: &mailboxpb.Revoke{}}}
		if _, err := s.exchange(ctx, s.env.Net.Host(), mb, req); err != nil {
			s.env.Log.Warn("mailbox: revocation not delivered; the appointment expires", "mailbox", mb, "err", err)
		}
	}
	return nil
}

// without returns the entries but mb's (and any that does not decode).
func without(entries []*mailboxpb.MailboxList_Entry, mb peer.ID) []*mailboxpb.MailboxList_Entry {
	var out []*mailboxpb.MailboxList_Entry
	for _, e := range entries {
		if a, err := mbcrypto.UnmarshalAppointment(e.Appointment); err == nil && a.Mailbox != mb {
			out = append(out, e)
		}
	}
	return out
}

// Mine lists the mailboxes we appointed.
func (s *Service) Mine() ([]Appointed, error) {
	var out []Appointed
	err := s.view(func(tx *storage.Txn) error {
		own, err := readList(tx, ownKey)
		if err != nil {
			return err
		}
		for _, e := range own.Entries {
			a, err := mbcrypto.UnmarshalAppointment(e.Appointment)
			if err != nil {
				return fmt.Errorf("%w: our appointment: %w", storage.ErrCorrupt, err)
			}
			out = append(out, Appointed{Mailbox: a.Mailbox, Issued: a.Issued, Expires: a.Expires})
		}
		return nil
	})
	s.mu.Lock()
	for i := range out {
		out[i].LastDrain = s.lastDrain[out[i].Mailbox]
		out[i].DrainErr = s.drainErr[out[i].Mailbox]
	}
	s.mu.Unlock()
	return out, err
}

// loadMine reads which peers are our mailboxes.
func (s *Service) loadMine() error {
	mine, err := s.Mine()
	if err != nil {
		return err
	}
	for _, a := range mine {
		s.setMine(a.Mailbox, true)
	}
	return nil
}

func (s *Service) setMine(mb peer.ID, on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if on {
		s.mine[mb] = true
	} else {
		delete(s.mine, mb)
	}
}

func (s *Service) isMine(p peer.ID) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mine[p]
}

func (s *Service) mineList() []peer.ID {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]peer.ID, 0, len(s.mine))
	for p := range s.mine {
		out = append(out, p)
	}
	return out
}

// exchange sends one request to a mailbox from h (the node's host, or a
// throwaway one) and returns its answer; an answer that carries an error is
// returned as ErrRefused.
func (s *Service) exchange(ctx context.Context, h host.Host, mb peer.ID, req *mailboxpb.Request) (*mailboxpb.Response, error) {
	var resp mailboxpb.Response
	ctx = network.WithAllowLimitedConn(ctx, "mailbox")
	if err := frame.Exchange(ctx, h, mb, Protocol, exchangeTimeout, req, &resp, maxResponseSize); err != nil {
		return nil, err
	}
	if resp.Error != "" {
		return nil, fmt.Errorf("%w: %s says: %s", ErrRefused, mb.ShortString(), resp.Error)
	}
	return &resp, nil
}
