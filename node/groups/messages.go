package groups

import (
	"time"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/groups/content"
	"github.com/backchannel/backchannel/storage"
)

// GroupMessages returns up to limit lines of the group's thread, newest
// first, sent before before (zero: from the newest), each with its author
// as shown (see Member), its reactions, RSVPs and receipts.
func (s *Service) GroupMessages(id group.ID, limit int, before time.Time) ([]Message, error) {
	if limit <= 0 {
		limit = 50
	}
	return s.groupMessages(id, func(tx *storage.Txn) ([]storage.GroupMessage, error) {
		return tx.GroupMessages(sid(id), limit, before)
	})
}

func (s *Service) groupMessages(id group.ID, list func(tx *storage.Txn) ([]storage.GroupMessage, error)) ([]Message, error) {
	var out []Message
	err := s.store.View(func(tx *storage.Txn) error {
		g, err := getGroup(tx, id)
		if err != nil {
			return err
		}
		ms, err := list(tx)
		if err != nil {
			return err
		}
		receipts, err := tx.GroupReceipts(sid(id))
		if err != nil {
			return err
		}
		var names *namer
		if len(ms) > 0 {
			if names, err = s.groupNamer(tx, g); err != nil {
				return err
			}
		}
		for _, m := range ms {
			gm := Message{GroupMessage: m, From: names.member(m.Sender)}
			notes, err := tx.GroupNotes(sid(id), m.ID)
			if err != nil {
				return err
			}
			for _, nt := range notes {
				switch nt.Kind {
				case storage.NoteReaction:
					gm.Reactions = append(gm.Reactions, Reaction{Peer: nt.Sender, Emoji: nt.Value})
				case KindRSVP:
					gm.RSVPs = append(gm.RSVPs, RSVP{Peer: nt.Sender, Answer: nt.Value})
				}
			}
			if !m.Outbound { // this node has it, and may have read it
				gm.DeliveredTo = append(gm.DeliveredTo, s.selfID())
				if !m.Sent.After(g.LastRead) {
					gm.ReadBy = append(gm.ReadBy, s.selfID())
				}
			}
			for _, r := range receipts {
				if r.Member == m.Sender || r.Member == s.selfID() {
					continue
				}
				if content.Covers(r.Delivered, m) {
					gm.DeliveredTo = append(gm.DeliveredTo, r.Member)
				}
				if content.Covers(r.Read, m) {
					gm.ReadBy = append(gm.ReadBy, r.Member)
				}
			}
			out = append(out, gm)
		}
		return nil
	})
	return out, err
}
