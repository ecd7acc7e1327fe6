package dm

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/ratchet"
	"github.com/backchannel/backchannel/crypto/stamp"
	"github.com/backchannel/backchannel/node/contacts"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/storage"
)

// encryptBatch bounds how many outbox entries one transaction encrypts.
const encryptBatch = 256

// proof is what a first message to a peer carries so that it is admitted
// as a stranger's: a proof-of-work stamp of some difficulty, or a one-time
// invite token that replaces it.
type proof struct {
	difficulty uint8
	token      []byte
}

// proofFor returns the proof p's bundle or invite asks of our messages while
// our session awaits its first reply; none after.
func proofFor(tx *storage.Txn, ps *peerState, p peer.ID) proof {
	if !ps.cur.AwaitingReply() {
		return proof{}
	}
	if t, err := tx.GetSetting(contacts.TokenForKey(p)); err == nil {
		token, _ := hex.DecodeString(string(t)) // the token replaces the stamp
		return proof{token: token}
	}
	if d, err := tx.GetSetting(difficultyKey(p)); err == nil && len(d) == 1 {
		return proof{difficulty: d[0]}
	}
	return proof{}
}

// sealPending encrypts, in order, the entries that have no frame yet (at
// most encryptBatch, and only one while a stamp is due) and saves the
// session with them. more reports entries left for another transaction.
// Call with ps.mu held, inside updateSessions.
func (d *Service) sealPending(tx *storage.Txn, ps *peerState, p peer.ID, entries []storage.OutboxEntry) (more bool, err error) {
	if ps.cur == nil || !ps.cur.CanSend() {
		return false, fmt.Errorf("no session to send to %s", p.ShortString())
	}
	if err := d.keepSealOrder(tx, entries); err != nil {
		return false, err
	}
	pr := proofFor(tx, ps, p)
	changed := 0
	for i := range entries {
		if entries[i].Frame != nil {
			continue
		}
		if changed == encryptBatch || pr.difficulty > 0 && changed > 0 {
			more = true
			break
		}
		if err := d.sealEntry(tx, ps, &entries[i], nil, pr, false); err != nil {
			return false, err
		}
		changed++
	}
	if changed == 0 {
		return more, nil
	}
	return more, ps.save(tx, p)
}

// keepSealOrder moves the plain entries behind the last encrypted one when
// one of them comes before it, keeping their own order, so that the ratchet
// counters follow the outbox order and the recipient never skips. It
// happens only when a group control queued outside the peer's lock
// (QueueControls) commits, older than a send the sender then encrypted at
// once, before KickOutbox stops that. entries is reordered in place to the
// new outbox order.
func (d *Service) keepSealOrder(tx *storage.Txn, entries []storage.OutboxEntry) error {
	lastSealed, firstPlain := -1, -1
	for i := range entries {
		switch {
		case entries[i].Frame != nil:
			lastSealed = i
		case firstPlain < 0:
			firstPlain = i
		}
	}
	if firstPlain < 0 || firstPlain > lastSealed {
		return nil
	}
	var plain []storage.OutboxEntry
	w := 0
	for _, e := range entries {
		if e.Frame != nil {
			entries[w] = e
			w++
		} else {
			plain = append(plain, e)
		}
	}
	for _, e := range plain {
		if err := tx.DeleteOutboxAt(e.Peer, e.Created, e.ID); err != nil {
			return err
		}
		e.Created = d.env.Clock.Now() // after every entry: the caller holds the peer's lock
		if err := tx.AddOutbox(e); err != nil {
			return err
		}
		entries[w] = e
		w++
	}
	d.env.Log.Debug("outbox: plain entries moved behind encrypted ones", "to", entries[0].Peer, "count", len(plain))
	return nil
}

// sealEntry is the one place that encrypts 1:1 content: a lone send in its
// storing transaction, a control content sent at once, and the deliverer's
// batches all come here. It encrypts e's content (c when given; else the
// content queued in e, or the stored message e names) with ps's current
// session and stores e with its frame in tx: a new entry when fresh, else
// one read from the outbox in tx. The caller saves the session.
func (d *Service) sealEntry(tx *storage.Txn, ps *peerState, e *storage.OutboxEntry, c *dmpb.Content, pr proof, fresh bool) error {
	if c == nil {
		var err error
		if c, err = queuedContent(tx, *e); err != nil {
			return err
		}
	}
	frame, err := d.sealContent(ps.cur, c, pr)
	if err != nil {
		return err
	}
	e.Frame, e.Content = frame, nil
	if fresh {
		return tx.AddOutbox(*e)
	}
	return tx.ReplaceOutbox(*e)
}

// queuedContent is what an outbox entry sends: its own content (a control
// content queued before a session existed), or else the stored message it
// names.
func queuedContent(tx *storage.Txn, e storage.OutboxEntry) (*dmpb.Content, error) {
	if e.Content != nil {
		var c dmpb.Content
		if err := proto.Unmarshal(e.Content, &c); err != nil {
			return nil, fmt.Errorf("queued content %s: %w", e.ID, err)
		}
		return &c, nil
	}
	m, err := tx.Message(e.Peer, e.ID)
	if err != nil {
		return nil, fmt.Errorf("queued message %s: %w", e.ID, err)
	}
	return contentFromMessage(m)
}

// sealContent encrypts c into a DM frame, with the proof pr.
func (d *Service) sealContent(s *ratchet.Session, c *dmpb.Content, pr proof) ([]byte, error) {
	pt, err := proto.Marshal(c)
	if err != nil {
		return nil, err
	}
	msg, err := s.Encrypt(pt)
	if err != nil {
		return nil, err
	}
	rm, err := msg.MarshalBinary()
	if err != nil {
		return nil, err
	}
	env := &dmpb.Envelope{Id: c.Id, RatchetMessage: rm, InviteToken: pr.token}
	if pr.difficulty > 0 {
		ctx := stamp.Context{Recipient: s.Remote().Key, Sender: d.env.Identity.Public().Key, MessageHash: stamp.HashMessage(rm)}
		st, err := stamp.Make(d.ctx, ctx, stamp.DayOf(time.Now()), pr.difficulty)
		if err != nil {
			return nil, err
		}
		if env.Stamp, err = st.MarshalBinary(); err != nil {
			return nil, err
		}
	}
	return proto.Marshal(&dmpb.Frame{Body: &dmpb.Frame_Envelope{Envelope: env}})
}
