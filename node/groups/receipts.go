package groups

import (
	"errors"
	"time"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/groupsync"
	"github.com/backchannel/backchannel/storage"
)

// receiptMarks are the marks a receipt carries: this node's, for the two
// newest epochs, of every sender but itself.
func (s *Service) receiptMarks(tx *storage.Txn, g storage.Group, latest uint64) ([]storage.GroupMark, error) {
	all, err := tx.GroupMarks(g.ID)
	if err != nil {
		return nil, err
	}
	var out []storage.GroupMark
	for _, m := range all {
		if m.Sender != s.selfID() && m.Epoch+1 >= latest && m.Next > 0 {
			out = append(out, m)
		}
	}
	return out, nil
}

// publishReceipt tells the group how far this node has received and read.
func (s *Service) publishReceipt(lg *liveGroup) error {
	var r *groupspb.GroupReceipt
	err := s.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, lg.id)
		if err != nil {
			return err
		}
		delivered, err := s.receiptMarks(tx, g, lg.gate.View().Latest)
		if err != nil {
			return err
		}
		own, err := tx.GroupReceipt(g.ID, s.selfID())
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		r = &groupspb.GroupReceipt{Delivered: groupsync.MarksToWire(delivered), Read: groupsync.MarksToWire(own.Read)}
		return nil
	})
	if err != nil {
		return err
	}
	if len(r.Delivered) == 0 && len(r.Read) == 0 {
		return nil
	}
	data, err := s.sealGroup(lg, &groupspb.GroupContent{Body: &groupspb.GroupContent_Receipt{Receipt: r}})
	if err != nil {
		return err
	}
	lg.pub.Enqueue(data)
	return nil
}

// MarkGroupRead marks everything received in the group read, and tells the
// group (in the next receipt, sent at once).
func (s *Service) MarkGroupRead(id group.ID) error {
	lg, live := s.get(id)
	err := s.store.Update(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		ms, err := tx.GroupMessages(g.ID, 1, time.Time{})
		if err != nil {
			return err
		}
		if len(ms) > 0 && ms[0].Sent.After(g.LastRead) {
			g.LastRead, g.Updated = ms[0].Sent, time.Now().UTC()
			if err := tx.PutGroup(g); err != nil {
				return err
			}
		}
		if !live {
			return nil
		}
		marks, err := s.receiptMarks(tx, g, lg.gate.View().Latest)
		if err != nil {
			return err
		}
		own, err := tx.GroupReceipt(g.ID, s.selfID())
		if err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		own.Member, own.Read, own.Updated = s.selfID(), marks, time.Now().UTC()
		return tx.PutGroupReceipt(g.ID, own)
	})
	if err != nil {
		return err
	}
	if live {
		if err := s.publishReceipt(lg); err != nil && !errors.Is(err, errs.ErrKeyPending) {
			return err
		}
	}
	return nil
}
