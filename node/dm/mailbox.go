package dm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/storage"
)

// depositQueued hands p's queue to one of p's mailboxes: the frames the
// outbox already encrypted (never encrypted again), and those it encrypts
// now. Each deposited entry leaves the outbox and its message shows "in
// mailbox"; its delivery receipt comes back as a content. It reports
// whether the queue is empty.
func (d *Service) depositQueued(ctx context.Context, p peer.ID) (bool, error) {
	// A first message needs p's bundle: p's mailbox serves one.
	err := d.ensureSessionFrom(ctx, p, func(ctx context.Context, p peer.ID) (identity.Bundle, error) {
		enc, err := d.cfg.Mailboxes.Bundle(ctx, p)
		if err != nil {
			return identity.Bundle{}, err
		}
		return checkBundle(p, enc)
	})
	if err != nil {
		return false, err
	}
	ps := d.peers.acquire(p)
	ps.mu.Lock()
	if !ps.loaded {
		err = d.env.Store.View(func(tx *storage.Txn) error { return ps.load(tx, p) })
	}
	var to keys.DHPublic
	can := ps.cur != nil && ps.cur.CanSend()
	if can {
		to = ps.cur.Remote().DH
	}
	ps.mu.Unlock()
	d.peers.release(ps)
	if err != nil {
		return false, err
	}
	if !can {
		return false, fmt.Errorf("%w: no session with %s yet", errs.ErrNoMailbox, p.ShortString())
	}
	entries, err := d.encryptQueued(p)
	if err != nil || len(entries) == 0 {
		return len(entries) == 0, err
	}
	frames := make([][]byte, len(entries))
	for i, e := range entries {
		frames[i] = e.Frame
	}
	n, err := d.cfg.Mailboxes.Deposit(ctx, p, to, frames)
	if n > 0 {
		es := make([]ackedEntry, n)
		for i, e := range entries[:n] {
			es[i] = ackedEntry{e.ID, e.Created}
		}
		if aerr := d.dequeueAll(p, es, storage.StateInMailbox); aerr != nil {
			return false, aerr
		}
		d.env.Log.Debug("outbox: deposited in a mailbox", "to", p, "messages", n)
	}
	if err != nil {
		return false, err
	}
	return n == len(entries), nil
}

// SendMailboxList queues our mailbox list (node/mailbox's encoding) for p.
// Unlike receipts it waits in the outbox for a session if there is none
// yet, and survives a restart: a contact must learn where to deposit.
func (d *Service) SendMailboxList(p peer.ID, list []byte) error {
	id := NewMessageID()
	c := &dmpb.Content{Id: id[:], SentUnixNano: time.Now().UnixNano(), Body: &dmpb.Content_Mailboxes{Mailboxes: list}}
	b, err := proto.Marshal(c)
	if err != nil {
		return err
	}
	ps := d.peers.acquire(p)
	defer d.peers.release(ps)
	ps.mu.Lock()
	err = d.env.Store.Update(func(tx *storage.Txn) error {
		// A fresh ID; strictly increasing times, under p's lock: the outbox
		// floor holds.
		now := d.env.Clock.Now()
		return tx.AddOutbox(storage.OutboxEntry{ID: id, Peer: p, Content: b, Created: now, NextTry: now})
	})
	ps.sealOK = false // queued plain: later sends wait for the deliverer
	ps.mu.Unlock()
	if err != nil {
		return err
	}
	d.out.notify(p)
	return nil
}

// Answered reports whether p has written to us on our current session: until
// then every message to p pays its stamp, and a mailbox list, which p does
// not need before it answers, would cost a second stamp.
func (d *Service) Answered(p peer.ID) bool {
	ps := d.peers.acquire(p)
	defer d.peers.release(ps)
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if !ps.loaded {
		if err := d.env.Store.View(func(tx *storage.Txn) error { return ps.load(tx, p) }); err != nil {
			return false
		}
	}
	return ps.cur != nil && !ps.cur.AwaitingReply()
}

// Drained is an item taken from one of our mailboxes: a DM frame From wrote.
type Drained struct {
	From  peer.ID
	Frame []byte
}

// ReceiveDrained handles frames taken from our mailboxes exactly as if
// their senders had sent them over a DM stream: the same receive
// transaction, per run of one sender's frames, and duplicates recognised.
// Instead of acks on a stream, each committed message (a duplicate too) is
// answered with a delivery receipt queued in that transaction, which the
// outbox delivers like any content. done[i] reports that item i may leave
// the mailbox: committed, a duplicate, or broken for good (dropped with a
// warning); an item whose sender was asked to retry later stays. An error
// means the store failed; items from there on are not done.
func (d *Service) ReceiveDrained(items []Drained) ([]bool, error) {
	done := make([]bool, len(items))
	for i := 0; i < len(items); {
		j := i
		for j < len(items) && items[j].From == items[i].From {
			j++
		}
		if err := d.receiveRun(items[i].From, items[i:j], done[i:j]); err != nil {
			return done, err
		}
		i = j
	}
	return done, nil
}

// receiveRun receives one sender's run of drained frames.
func (d *Service) receiveRun(p peer.ID, run []Drained, done []bool) error {
	if p == d.env.Net.Host().ID() {
		for i := range done {
			done[i] = true // sealed by ourselves: no sender to answer
		}
		return nil
	}
	envs := make([]*dmpb.Envelope, 0, len(run))
	idx := make([]int, 0, len(run))
	for i, it := range run {
		var f dmpb.Frame
		if err := proto.Unmarshal(it.Frame, &f); err != nil || f.GetEnvelope() == nil {
			d.env.Log.Warn("mailbox: dropping a drained item that is not a DM envelope", "from", p)
			done[i] = true
			continue
		}
		envs = append(envs, f.GetEnvelope())
		idx = append(idx, i)
	}
	for start := 0; start < len(envs); start += maxBatch {
		end := min(start+maxBatch, len(envs))
		acks, err := d.receive(p, envs[start:end], true)
		if err == nil {
			markDone(acks, idx[start:end], done)
			continue
		}
		if !errors.Is(err, errs.ErrProtocol) {
			return err
		}
		// One envelope breaks the protocol: find it, take the rest.
		for k := start; k < end; k++ {
			acks, err := d.receive(p, envs[k:k+1], true)
			switch {
			case err == nil:
				markDone(acks, idx[k:k+1], done)
			case errors.Is(err, errs.ErrProtocol):
				d.env.Log.Warn("mailbox: dropping a drained envelope", "from", p, "err", err)
				done[idx[k]] = true
			default:
				return err
			}
		}
	}
	return nil
}

func markDone(acks []*dmpb.Ack, idx []int, done []bool) {
	for i, a := range acks {
		done[idx[i]] = a.Status == dmpb.Ack_OK
	}
}
