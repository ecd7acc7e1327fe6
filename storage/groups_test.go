package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"
)

func groupID(n int) GroupID {
	var id GroupID
	id[0] = 0x6A
	id[31] = byte(n)
	return id
}

func envID(epoch uint64, sender peer.ID, seq uint64) [32]byte {
	var id [32]byte
	copy(id[:16], sender[len(sender)-16:])
	binary.BigEndian.PutUint64(id[16:], epoch)
	binary.BigEndian.PutUint64(id[24:], seq)
	return id
}

func groupEnv(g GroupID, epoch uint64, sender peer.ID, seq uint64) GroupEnvelope {
	id := envID(epoch, sender, seq)
	return GroupEnvelope{Group: g, Epoch: epoch, Sender: sender, Seq: seq, ID: id, Data: append([]byte("envelope "), id[:]...), Received: at(int(seq))}
}

func TestGroupRecordRoundTrip(t *testing.T) {
	s := openMem(t)
	secret := bytes.Repeat([]byte{7}, 32)
	g := Group{ID: groupID(1), Secret: secret, Name: "friends", NameSent: at(3), NameID: envID(1, peerN(1), 2),
		State: GroupInvited, Inviter: peerN(2), InviteMessage: msgID(9), BaseEpoch: 4, Created: at(1), Updated: at(2), LastRead: at(5)}
	other := Group{ID: groupID(2), Name: "book club", State: GroupLeft, Created: at(1), Updated: at(1)}
	update(t, s, func(tx *Txn) error {
		if err := tx.PutGroup(g); err != nil {
			return err
		}
		return tx.PutGroup(other)
	})
	view(t, s, func(tx *Txn) error {
		got, err := tx.Group(g.ID)
		if err != nil {
			return err
		}
		if !groupEqual(got, g) {
			t.Errorf("Group = %+v, want %+v", got, g)
		}
		gs, err := tx.Groups()
		if err != nil {
			return err
		}
		if len(gs) != 2 || gs[0].Name != "book club" || gs[1].Name != "friends" {
			t.Errorf("Groups = %+v", gs)
		}
		if byName, err := tx.GroupByName("friends"); err != nil || byName.ID != g.ID {
			t.Errorf("GroupByName = %v, %v", byName.ID, err)
		}
		if _, err := tx.GroupByName("nobody"); !errors.Is(err, ErrNotFound) {
			t.Errorf("GroupByName(nobody) = %v", err)
		}
		if _, err := tx.Group(groupID(3)); !errors.Is(err, ErrNotFound) {
			t.Errorf("missing group: %v", err)
		}
		return nil
	})
	for _, bad := range []Group{{State: GroupJoined}, {ID: groupID(1)}, {ID: groupID(1), State: GroupJoined, Secret: []byte{1}}} {
		if err := s.Update(func(tx *Txn) error { return tx.PutGroup(bad) }); !errors.Is(err, ErrInvalid) {
			t.Errorf("PutGroup(%+v) = %v, want ErrInvalid", bad, err)
		}
	}
}

func groupEqual(a, b Group) bool {
	return a.ID == b.ID && bytes.Equal(a.Secret, b.Secret) && a.Name == b.Name && a.NameSent.Equal(b.NameSent) &&
		a.NameID == b.NameID && a.State == b.State && a.Inviter == b.Inviter && a.InviteMessage == b.InviteMessage &&
		a.BaseEpoch == b.BaseEpoch && a.Created.Equal(b.Created) && a.Updated.Equal(b.Updated) && a.LastRead.Equal(b.LastRead)
}

// TestGroupEpochRecords: rosters, keys and send chains by epoch; deleting
// from an epoch on (a lost fork) keeps the earlier ones; secrets go, the
// rosters stay.
func TestGroupEpochRecords(t *testing.T) {
	s := openMem(t)
	g := groupID(1)
	update(t, s, func(tx *Txn) error {
		for e := uint64(0); e < 4; e++ {
			if err := tx.PutGroupRoster(g, e, []byte{'r', byte(e)}); err != nil {
				return err
			}
			if err := tx.PutGroupEpochKey(g, e, []byte{'k', byte(e)}); err != nil {
				return err
			}
			if err := tx.PutGroupSendChain(g, e, []byte{'s', byte(e)}); err != nil {
				return err
			}
			if err := tx.PutGroupReceiveChain(g, e, peerN(1), []byte{'c', byte(e)}); err != nil {
				return err
			}
		}
		if err := tx.PutGroupRoster(groupID(2), 0, []byte("other group")); err != nil {
			return err
		}
		if err := tx.PutParkedGroupKey(g, ParkedGroupKey{Epoch: 9, From: peerN(3), Key: []byte("k9'"), Roster: []byte("r9'")}); err != nil {
			return err
		}
		if err := tx.PutParkedGroupKey(g, ParkedGroupKey{Epoch: 9, From: peerN(4), Key: []byte("gone"), Roster: []byte("gone")}); err != nil {
			return err
		}
		if err := tx.DeleteParkedGroupKey(g, 9, peerN(4)); err != nil {
			return err
		}
		return tx.PutParkedGroupKey(g, ParkedGroupKey{Epoch: 9, From: peerN(2), Key: []byte("k9"), Roster: []byte("r9")})
	})
	update(t, s, func(tx *Txn) error { return tx.DeleteGroupRostersFrom(g, 2) })
	view(t, s, func(tx *Txn) error {
		rs, err := tx.GroupRosters(g)
		if err != nil {
			return err
		}
		if len(rs) != 2 || rs[0].Epoch != 0 || rs[1].Epoch != 1 || !bytes.Equal(rs[1].Data, []byte{'r', 1}) {
			t.Errorf("rosters after deleting from 2: %+v", rs)
		}
		if _, err := tx.GroupEpochKey(g, 2); !errors.Is(err, ErrNotFound) {
			t.Errorf("key of epoch 2: %v", err)
		}
		if _, err := tx.GroupSendChain(g, 3); !errors.Is(err, ErrNotFound) {
			t.Errorf("send chain of epoch 3: %v", err)
		}
		if k, err := tx.GroupEpochKey(g, 1); err != nil || !bytes.Equal(k, []byte{'k', 1}) {
			t.Errorf("key of epoch 1: %q, %v", k, err)
		}
		if c, err := tx.GroupReceiveChain(g, 3, peerN(1)); err != nil || !bytes.Equal(c, []byte{'c', 3}) {
			t.Errorf("receive chain: %q, %v", c, err)
		}
		parked, err := tx.ParkedGroupKeys(g)
		if err != nil || len(parked) != 2 || parked[0].Epoch != 9 || parked[0].From != peerN(2) || parked[1].From != peerN(3) {
			t.Errorf("parked: %+v, %v", parked, err)
		}
		return nil
	})
	update(t, s, func(tx *Txn) error { return tx.DeleteGroupSecrets(g) })
	view(t, s, func(tx *Txn) error {
		if ks, err := tx.GroupEpochKeys(g); err != nil || len(ks) != 0 {
			t.Errorf("keys after DeleteGroupSecrets: %v, %v", ks, err)
		}
		if _, err := tx.GroupReceiveChain(g, 3, peerN(1)); !errors.Is(err, ErrNotFound) {
			t.Errorf("receive chain after DeleteGroupSecrets: %v", err)
		}
		if p, _ := tx.ParkedGroupKeys(g); len(p) != 0 {
			t.Errorf("parked keys after DeleteGroupSecrets: %v", p)
		}
		if rs, _ := tx.GroupRosters(g); len(rs) != 2 {
			t.Errorf("rosters after DeleteGroupSecrets: %d", len(rs))
		}
		if rs, _ := tx.GroupRosters(groupID(2)); len(rs) != 1 {
			t.Errorf("the other group lost its roster")
		}
		return nil
	})
}

// TestGroupEnvelopesAndMarks: envelopes are deduplicated by ID, a second
// envelope for a used seq is refused, and marks count what is held from seq
// 0 without a gap, per epoch and sender.
func TestGroupEnvelopesAndMarks(t *testing.T) {
	s := openMem(t)
	g := groupID(1)
	a, b := peerN(1), peerN(2)
	put := func(e GroupEnvelope) bool {
		var added bool
		update(t, s, func(tx *Txn) error {
			var err error
			added, err = tx.PutGroupEnvelope(e)
			return err
		})
		return added
	}
	for _, seq := range []uint64{0, 1, 3} {
		if !put(groupEnv(g, 5, a, seq)) {
			t.Fatalf("seq %d not added", seq)
		}
	}
	if put(groupEnv(g, 5, a, 1)) {
		t.Fatal("a duplicate was added")
	}
	put(groupEnv(g, 5, b, 2)) // b's seq 0 and 1 missing
	put(groupEnv(g, 6, a, 0))
	forged := groupEnv(g, 5, a, 3)
	forged.ID[0] ^= 1
	if err := s.Update(func(tx *Txn) error { _, err := tx.PutGroupEnvelope(forged); return err }); !errors.Is(err, ErrMismatch) {
		t.Fatalf("second envelope for a seq: %v, want ErrMismatch", err)
	}
	marks := func() map[GroupMark]bool {
		out := map[GroupMark]bool{}
		view(t, s, func(tx *Txn) error {
			ms, err := tx.GroupMarks(g)
			for _, m := range ms {
				out[m] = true
			}
			return err
		})
		return out
	}
	want := map[GroupMark]bool{{5, a, 2}: true, {5, b, 0}: true, {6, a, 1}: true}
	if got := marks(); !mapsEqual(got, want) {
		t.Fatalf("marks = %v, want %v", got, want)
	}
	put(groupEnv(g, 5, a, 2)) // fills the gap: the mark jumps past 3
	want = map[GroupMark]bool{{5, a, 4}: true, {5, b, 0}: true, {6, a, 1}: true}
	if got := marks(); !mapsEqual(got, want) {
		t.Fatalf("marks after the gap filled = %v, want %v", got, want)
	}
	view(t, s, func(tx *Txn) error {
		es, err := tx.GroupEnvelopes(g, 5, a, 1, 2)
		if err != nil {
			return err
		}
		if len(es) != 2 || es[0].Seq != 1 || es[1].Seq != 2 || es[0].ID != envID(5, a, 1) {
			t.Errorf("GroupEnvelopes = %+v", es)
		}
		byID, err := tx.GroupEnvelopeByID(g, envID(5, b, 2))
		if err != nil || byID.Sender != b || byID.Seq != 2 || byID.Epoch != 5 {
			t.Errorf("GroupEnvelopeByID = %+v, %v", byID, err)
		}
		if ok, _ := tx.HasGroupEnvelope(g, envID(6, a, 0)); !ok {
			t.Error("HasGroupEnvelope = false")
		}
		un, err := tx.UnopenedGroupEnvelopes(g, 5, 100)
		if err != nil || len(un) != 5 {
			t.Errorf("unopened = %d, %v", len(un), err)
		}
		return nil
	})
	update(t, s, func(tx *Txn) error {
		e, err := tx.GroupEnvelope(g, 5, a, 0)
		if err != nil {
			return err
		}
		return tx.SetGroupEnvelopeOpened(e)
	})
	view(t, s, func(tx *Txn) error {
		un, _ := tx.UnopenedGroupEnvelopes(g, 5, 100)
		if len(un) != 4 || slices.ContainsFunc(un, func(e GroupEnvelope) bool { return e.Sender == a && e.Seq == 0 }) {
			t.Errorf("unopened after opening one: %+v", un)
		}
		return nil
	})
}

func mapsEqual[K comparable](a, b map[K]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func TestGroupMessagesAndNotes(t *testing.T) {
	s := openMem(t)
	g := groupID(1)
	var ms []GroupMessage
	for i := range 5 {
		m := GroupMessage{Group: g, ID: envID(0, peerN(1), uint64(i)), Sender: peerN(1), Seq: uint64(i), Kind: "text",
			Body: "line", Sent: at(i + 1), Received: at(i + 2)}
		if i == 3 {
			m.Kind, m.EventStart, m.ReplyTo = "event", at(100), ms[0].ID
		}
		ms = append(ms, m)
	}
	update(t, s, func(tx *Txn) error {
		for _, m := range ms {
			if ok, err := tx.PutGroupMessage(m); err != nil || !ok {
				return errors.Join(err, errors.New("not added"))
			}
		}
		if ok, err := tx.PutGroupMessage(ms[2]); ok || err != nil {
			t.Errorf("duplicate: %v, %v", ok, err)
		}
		return nil
	})
	view(t, s, func(tx *Txn) error {
		got, err := tx.GroupMessages(g, 2, time.Time{})
		if err != nil || len(got) != 2 || got[0].ID != ms[4].ID || got[1].ID != ms[3].ID {
			t.Errorf("newest two: %v", err)
		}
		got, err = tx.GroupMessages(g, 10, ms[3].Sent)
		if err != nil || len(got) != 3 || got[0].ID != ms[2].ID {
			t.Errorf("before the event: %d, %v", len(got), err)
		}
		ev, err := tx.GroupMessage(g, ms[3].ID)
		if err != nil || ev.Kind != "event" || !ev.EventStart.Equal(at(100)) || ev.ReplyTo != ms[0].ID || !ev.Received.Equal(at(5)) {
			t.Errorf("event = %+v, %v", ev, err)
		}
		return nil
	})
	target := ms[3].ID
	notes := []struct {
		n       GroupNote
		changed bool
	}{
		{GroupNote{Group: g, Target: target, Sender: peerN(2), Kind: "rsvp", Value: "yes", Sent: at(10), ID: envID(0, peerN(2), 0)}, true},
		{GroupNote{Group: g, Target: target, Sender: peerN(2), Kind: "rsvp", Value: "no", Sent: at(9), ID: envID(0, peerN(2), 1)}, false}, // older
		{GroupNote{Group: g, Target: target, Sender: peerN(2), Kind: "rsvp", Value: "maybe", Sent: at(11), ID: envID(0, peerN(2), 2)}, true},
		{GroupNote{Group: g, Target: target, Sender: peerN(3), Kind: NoteReaction, Value: "👍", Sent: at(12), ID: envID(0, peerN(3), 0)}, true},
		{GroupNote{Group: g, Target: target, Sender: peerN(3), Kind: NoteReaction, Value: "🎉", Sent: at(13), ID: envID(0, peerN(3), 1)}, true},
		{GroupNote{Group: g, Target: target, Sender: peerN(3), Kind: NoteReaction, Value: "👍", Sent: at(12), ID: envID(0, peerN(3), 0)}, false},
	}
	for _, tc := range notes {
		update(t, s, func(tx *Txn) error {
			changed, err := tx.PutGroupNote(tc.n)
			if changed != tc.changed {
				t.Errorf("note %s %s: changed = %v, want %v", tc.n.Kind, tc.n.Value, changed, tc.changed)
			}
			return err
		})
	}
	view(t, s, func(tx *Txn) error {
		ns, err := tx.GroupNotes(g, target)
		if err != nil {
			return err
		}
		var vals []string
		for _, n := range ns {
			vals = append(vals, n.Kind+":"+n.Value)
		}
		slices.Sort(vals)
		if want := []string{"reaction:🎉", "reaction:👍", "rsvp:maybe"}; !slices.Equal(vals, want) {
			t.Errorf("notes = %v, want %v", vals, want)
		}
		if other, _ := tx.GroupNotes(g, ms[0].ID); len(other) != 0 {
			t.Errorf("notes on another message: %v", other)
		}
		return nil
	})
}

func TestGroupReceiptsAndDelete(t *testing.T) {
	s := openMem(t)
	g := groupID(1)
	r := GroupReceipt{Member: peerN(4), Delivered: []GroupMark{{1, peerN(1), 5}}, Read: []GroupMark{{1, peerN(1), 3}}, Updated: at(7)}
	update(t, s, func(tx *Txn) error {
		if err := tx.PutGroup(Group{ID: g, State: GroupJoined, Name: "g"}); err != nil {
			return err
		}
		if err := tx.PutGroupReceipt(g, r); err != nil {
			return err
		}
		if _, err := tx.PutGroupEnvelope(groupEnv(g, 1, peerN(1), 0)); err != nil {
			return err
		}
		_, err := tx.PutGroupMessage(GroupMessage{Group: g, ID: envID(1, peerN(1), 0), Sender: peerN(1), Kind: "text", Sent: at(1)})
		return err
	})
	view(t, s, func(tx *Txn) error {
		rs, err := tx.GroupReceipts(g)
		if err != nil || len(rs) != 1 || rs[0].Member != r.Member || rs[0].Delivered[0] != r.Delivered[0] || rs[0].Read[0] != r.Read[0] || !rs[0].Updated.Equal(at(7)) {
			t.Errorf("receipts = %+v, %v", rs, err)
		}
		one, err := tx.GroupReceipt(g, r.Member)
		if err != nil || one.Member != r.Member {
			t.Errorf("receipt = %+v, %v", one, err)
		}
		return nil
	})
	update(t, s, func(tx *Txn) error { return tx.DeleteGroup(g) })
	view(t, s, func(tx *Txn) error {
		if _, err := tx.Group(g); !errors.Is(err, ErrNotFound) {
			t.Errorf("group after delete: %v", err)
		}
		if ms, _ := tx.GroupMessages(g, 10, time.Time{}); len(ms) != 0 {
			t.Errorf("messages after delete: %d", len(ms))
		}
		if marks, _ := tx.GroupMarks(g); len(marks) != 0 {
			t.Errorf("marks after delete: %v", marks)
		}
		if rs, _ := tx.GroupReceipts(g); len(rs) != 0 {
			t.Errorf("receipts after delete: %v", rs)
		}
		return nil
	})
}

// TestGroupMemberNames: a member's announced name round-trips, replaces the
// one before, is listed per member, deleted alone, and goes with the group;
// an empty name or peer is refused.
func TestGroupMemberNames(t *testing.T) {
	s := openMem(t)
	g, other := groupID(1), groupID(2)
	bob := GroupMemberName{Member: peerN(2), Name: "Bob", Sent: at(3), ID: [32]byte{1, 2}, Epoch: 4}
	carol := GroupMemberName{Member: peerN(3), Name: "Carol ✿", Sent: at(5), ID: [32]byte{3}, Epoch: 5}
	update(t, s, func(tx *Txn) error {
		for _, n := range []GroupMemberName{bob, carol, {Member: peerN(2), Name: "Bobby", Sent: at(1), ID: [32]byte{9}}} {
			if err := tx.PutGroupMemberName(g, n); err != nil {
				return err
			}
		}
		bob.Name, bob.Sent, bob.ID, bob.Epoch = "Bobby", at(1), [32]byte{9}, 0 // the last put counts: the caller decides who wins
		return tx.PutGroupMemberName(other, carol)
	})
	view(t, s, func(tx *Txn) error {
		got, err := tx.GroupMemberName(g, bob.Member)
		if err != nil || got != bob {
			t.Errorf("name = %+v, %v; want %+v", got, err, bob)
		}
		ns, err := tx.GroupMemberNames(g)
		if err != nil || len(ns) != 2 || !slices.Contains(ns, bob) || !slices.Contains(ns, carol) {
			t.Errorf("names = %+v, %v", ns, err)
		}
		if _, err := tx.GroupMemberName(g, peerN(7)); !errors.Is(err, ErrNotFound) {
			t.Errorf("name of a member who gave none: %v", err)
		}
		for _, bad := range []GroupMemberName{{Member: peerN(2)}, {Name: "x"}} {
			if err := tx.PutGroupMemberName(g, bad); !errors.Is(err, ErrInvalid) {
				t.Errorf("put %+v: %v, want ErrInvalid", bad, err)
			}
		}
		return nil
	})
	update(t, s, func(tx *Txn) error { return tx.DeleteGroupMemberName(g, bob.Member) })
	view(t, s, func(tx *Txn) error {
		if ns, err := tx.GroupMemberNames(g); err != nil || len(ns) != 1 || ns[0] != carol {
			t.Errorf("names after one left = %+v, %v", ns, err)
		}
		return nil
	})
	update(t, s, func(tx *Txn) error { return tx.DeleteGroup(g) })
	view(t, s, func(tx *Txn) error {
		if ns, err := tx.GroupMemberNames(g); err != nil || len(ns) != 0 {
			t.Errorf("names after the group was deleted = %+v, %v", ns, err)
		}
		if ns, err := tx.GroupMemberNames(other); err != nil || len(ns) != 1 {
			t.Errorf("another group's names = %+v, %v", ns, err)
		}
		return nil
	})
}

// peerN returns a fixed, distinct peer ID of 20 bytes for n.
func peerN(n int) peer.ID { return peer.ID("group-test-peer-" + string(rune('A'+n)) + "xyz") }
