package mailbox

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	mbcrypto "github.com/backchannel/backchannel/crypto/mailbox"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/mailbox/mailboxpb"
	"github.com/backchannel/backchannel/node/p2p"
)

// kick asks for a drain of mb now ("": of every mailbox of ours).
func (s *Service) kick(mb peer.ID) {
	select {
	case s.drainKick <- mb:
	default:
		// The queue is full of kicks already: one for all covers this one.
		select {
		case s.drainKick <- "":
		default:
		}
	}
}

// Drain drains every mailbox of ours now and waits for it.
func (s *Service) Drain(ctx context.Context) error {
	var first error
	for _, mb := range s.mineList() {
		if err := s.drainOnce(ctx, mb); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// runDrains drains our mailboxes when kicked and every drainInterval, one
// goroutine per mailbox at a time; a kick during a drain makes it run again,
// and a failed drain is tried again with backoff (the mailbox restarted, or
// the link dropped) until one succeeds.
func (s *Service) runDrains(ctx context.Context) {
	tick := time.NewTicker(drainInterval)
	defer tick.Stop()
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	type result struct {
		mb  peer.ID
		err error
	}
	var (
		again    = map[peer.ID]bool{}
		failures = map[peer.ID]int{}
		retryAt  = map[peer.ID]time.Time{}
		done     = make(chan result)
	)
	start := func(mb peer.ID) {
		delete(retryAt, mb)
		s.mu.Lock()
		busy := s.draining[mb]
		s.draining[mb] = true
		s.mu.Unlock()
		if busy {
			again[mb] = true
			return
		}
		s.goOwned(func() {
			err := s.drain(ctx, mb)
			select {
			case done <- result{mb, err}:
			case <-ctx.Done():
			}
		})
	}
	all := func() {
		for _, mb := range s.mineList() {
			start(mb)
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case mb := <-s.drainKick:
			if mb == "" {
				all()
			} else if s.isMine(mb) {
				start(mb)
			}
		case <-tick.C:
			all()
			s.goOwned(func() {
				s.renewDue(ctx)
				// Contacts who answered us since: they get our list now.
				s.pushAll()
			})
		case <-retry.C:
			now := time.Now()
			for mb, at := range retryAt {
				if !at.After(now) && s.isMine(mb) {
					start(mb)
				}
			}
		case r := <-done:
			s.mu.Lock()
			delete(s.draining, r.mb)
			s.mu.Unlock()
			switch {
			case r.err == nil:
				delete(failures, r.mb)
			case ctx.Err() == nil:
				failures[r.mb]++
				wait := p2p.Backoff(time.Second, time.Minute, failures[r.mb])
				retryAt[r.mb] = time.Now().Add(wait)
				s.env.Log.Info("mailbox: drain failed, will retry", "mailbox", r.mb, "in", wait.Round(time.Millisecond), "err", r.err)
			}
			if again[r.mb] {
				delete(again, r.mb)
				start(r.mb)
			}
		}
		if len(retryAt) > 0 {
			next := time.Now().Add(time.Hour)
			for _, at := range retryAt {
				if at.Before(next) {
					next = at
				}
			}
			retry.Reset(time.Until(next))
		}
	}
}

// drainOnce drains mb unless a drain of it is under way.
func (s *Service) drainOnce(ctx context.Context, mb peer.ID) error {
	s.mu.Lock()
	busy := s.draining[mb]
	s.draining[mb] = true
	s.mu.Unlock()
	if busy {
		return nil
	}
	defer func() {
		s.mu.Lock()
		delete(s.draining, mb)
		s.mu.Unlock()
	}()
	return s.drain(ctx, mb)
}

// drain fetches mb's items for us in batches, hands each batch to the
// Receiver, and deletes from mb what the Receiver committed, then fetches
// on. Items the Receiver leaves (their senders are asked to retry later)
// stay in mb for a later drain.
func (s *Service) drain(ctx context.Context, mb peer.ID) (err error) {
	defer func() {
		s.mu.Lock()
		if err == nil {
			s.lastDrain[mb] = s.now()
			delete(s.drainErr, mb)
		} else {
			// The text may quote the mailbox: keep a line of it.
			msg := err.Error()
			if len(msg) > 300 {
				msg = strings.ToValidUTF8(msg[:300], "") + "…"
			}
			s.drainErr[mb] = msg
		}
		s.mu.Unlock()
	}()
	s.env.Log.Debug("mailbox: draining", "mailbox", mb)
	if err := s.env.Net.Connect(ctx, mb); err != nil {
		return err
	}
	if err := s.uploadBundle(ctx, mb); err != nil {
		return err
	}
	opener := mbcrypto.NewOpener(s.env.Identity.DH(), s.env.Net.Host().ID())
	var after uint64
	for {
		resp, err := s.exchange(ctx, s.env.Net.Host(), mb, &mailboxpb.Request{Body: &mailboxpb.Request_Fetch{Fetch: &mailboxpb.Fetch{After: after}}})
		if err != nil {
			return err
		}
		if len(resp.Items) == 0 {
			return nil
		}
		s.env.Log.Debug("mailbox: drained", "mailbox", mb, "items", len(resp.Items), "more", resp.More)
		var (
			items []Drained
			seqs  []uint64
			del   []uint64
		)
		for _, it := range resp.Items {
			if it.Seq <= after {
				// A mailbox going backwards would make us loop.
				return fmt.Errorf("%w: mailbox %s handed item %d after %d", errs.ErrProtocol, mb.ShortString(), it.Seq, after)
			}
			after = it.Seq
			from, fr, err := opener.Open(it.Sealed)
			if err != nil {
				// Not for us, or damaged: no drain will ever open it.
				s.env.Log.Warn("mailbox: item does not open; deleting it", "mailbox", mb, "seq", it.Seq, "err", err)
				del = append(del, it.Seq)
				continue
			}
			items = append(items, Drained{From: from, Frame: fr})
			seqs = append(seqs, it.Seq)
		}
		var recvErr error
		if len(items) > 0 {
			var done []bool
			done, recvErr = s.cfg.Receiver.ReceiveDrained(items)
			for i, ok := range done {
				if ok {
					del = append(del, seqs[i])
				}
			}
		}
		if len(del) > 0 {
			// Only now, after the commit: a mailbox killed before it
			// deletes hands the items again, and they are duplicates.
			if _, err := s.exchange(ctx, s.env.Net.Host(), mb, &mailboxpb.Request{Body: &mailboxpb.Request_Delete{Delete: &mailboxpb.Delete{Seqs: del}}}); err != nil {
				return err
			}
		}
		if recvErr != nil {
			return recvErr
		}
		if !resp.More {
			return nil
		}
	}
}

// renewDue appoints again, for as long as before, every mailbox of ours
// whose appointment has less than a third of its time left, so that a
// running node never loses its mailboxes to expiry.
func (s *Service) renewDue(ctx context.Context) {
	mine, err := s.Mine()
	if err != nil {
		s.env.Log.Warn("mailbox: cannot read our appointments", "err", err)
		return
	}
	now := s.now()
	for _, a := range mine {
		life := a.Expires.Sub(a.Issued)
		if a.Expires.Sub(now) >= life/3 {
			continue
		}
		if _, err := s.Appoint(ctx, a.Mailbox, now.Add(life)); err != nil {
			s.env.Log.Info("mailbox: appointment not renewed; will retry", "mailbox", a.Mailbox, "expires", a.Expires, "err", err)
		}
	}
}

// uploadBundle gives mb our current bundle if it serves another one (our
// signed prekey rotated, or the node restarted and does not know).
func (s *Service) uploadBundle(ctx context.Context, mb peer.ID) error {
	bundle, err := s.cfg.Sender.MailboxBundle()
	if err != nil {
		return err
	}
	sum := sha256.Sum256(bundle)
	s.mu.Lock()
	same := s.uploaded[mb] == sum
	s.mu.Unlock()
	if same {
		return nil
	}
	if _, err := s.exchange(ctx, s.env.Net.Host(), mb, &mailboxpb.Request{Body: &mailboxpb.Request_PutBundle{PutBundle: &mailboxpb.PutBundle{Bundle: bundle}}}); err != nil {
		return err
	}
	s.mu.Lock()
	s.uploaded[mb] = sum
	s.mu.Unlock()
	return nil
}
