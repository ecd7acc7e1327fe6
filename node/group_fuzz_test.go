package node

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/dm"
	"github.com/backchannel/backchannel/node/dm/dmpb"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/peer"
)

// fuzzGroup is a node (not started) in a group with one other member.
type fuzzGroup struct {
	n      *Node
	id     group.ID
	other  identity.Identity
	gk     group.GroupKey
	roster *group.Roster
}

func newFuzzGroup(f *testing.F) *fuzzGroup {
	f.Helper()
	n, err := New(Config{Home: f.TempDir(), ListenAddrs: []string{"/ip4/127.0.0.1/tcp/0"}, Gater: &LoopbackGater{}, NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		n.Close()
		if r := n.cfg.Gater.Refused(); r != 0 {
			f.Errorf("gater refused %d", r)
		}
	})
	fg := &fuzzGroup{n: n, other: identity.New()}
	var secret group.Secret
	fg.id, secret = group.NewGroup()
	self := n.id.Public().Key
	fg.roster, err = group.Genesis(n.id.Signing(), fg.id, []group.Member{{Key: self, Role: group.RoleOwner}, {Key: fg.other.Public().Key, Role: group.RoleMember}})
	if err != nil {
		f.Fatal(err)
	}
	fg.gk = group.GroupKey{Group: fg.id, Key: group.NewEpochKey()}
	rb, _ := fg.roster.MarshalBinary()
	kb, _ := fg.gk.MarshalBinary()
	sb, _ := secret.MarshalBinary()
	err = n.store.Update(func(tx *storage.Txn) error {
		now := time.Now()
		if err := tx.PutGroup(storage.Group{ID: sid(fg.id), Secret: sb, Name: "fuzz", State: storage.GroupJoined, Created: now, Updated: now}); err != nil {
			return err
		}
		if err := tx.PutGroupRoster(sid(fg.id), 0, rb); err != nil {
			return err
		}
		return tx.PutGroupEpochKey(sid(fg.id), 0, kb)
	})
	if err != nil {
		f.Fatal(err)
	}
	return fg
}

// FuzzGroupControl feeds arbitrary group control contents, as if decrypted
// from the other member's 1:1 session, to the receive path: a bad one is
// dropped (acked, nothing stored), never a panic nor a broken transaction.
func FuzzGroupControl(f *testing.F) {
	fg := newFuzzGroup(f)
	rb, _ := fg.roster.MarshalBinary()
	kb, _ := fg.gk.MarshalBinary()
	body := func(m proto.Message) []byte { b, _ := proto.Marshal(m); return b }
	for _, c := range []*dmpb.Content{
		{Body: &dmpb.Content_GroupInvite{GroupInvite: body(&groupspb.GroupInvite{Group: fg.id[:], Secret: make([]byte, 32), Name: "g", Roster: rb})}},
		{Body: &dmpb.Content_GroupKey{GroupKey: body(&groupspb.GroupKey{Key: kb, Roster: rb})}},
		{Body: &dmpb.Content_GroupDecline{GroupDecline: body(&groupspb.GroupDecline{Group: fg.id[:]})}},
		{Body: &dmpb.Content_GroupLeave{GroupLeave: body(&groupspb.GroupLeave{Group: fg.id[:]})}},
		{Body: &dmpb.Content_GroupRemoved{GroupRemoved: body(&groupspb.GroupRemoved{Group: fg.id[:], Roster: rb})}},
	} {
		b, _ := proto.Marshal(c)
		f.Add(b)
	}
	from := fg.other.Public().Key.PeerID()
	f.Fuzz(func(t *testing.T, b []byte) {
		var c dmpb.Content
		if proto.Unmarshal(b, &c) != nil {
			return
		}
		switch c.Body.(type) {
		case *dmpb.Content_GroupInvite, *dmpb.Content_GroupKey, *dmpb.Content_GroupDecline, *dmpb.Content_GroupLeave, *dmpb.Content_GroupRemoved:
		default:
			return
		}
		sum := sha256.Sum256(b)
		gc, err := groupControlOf(&c)
		if err != nil {
			t.Fatalf("control %x: %v", b, err)
		}
		err = fg.n.store.Update(func(tx *storage.Txn) error {
			rc := &fuzzReceipt{tx: tx, p: from, pk: fg.other.Public().Key}
			return fg.n.groupControl(rc, storage.MessageID(sum[:16]), time.Now().UTC(), gc)
		})
		if err != nil {
			t.Fatalf("control %x: %v", b, err)
		}
	})
}

// fuzzReceipt stands for the 1:1 receive transaction of a stranger's
// content, as dm hands it to the group handler.
type fuzzReceipt struct {
	tx *storage.Txn
	p  peer.ID
	pk keys.PublicKey
}

func (r *fuzzReceipt) Txn() *storage.Txn   { return r.tx }
func (r *fuzzReceipt) Peer() peer.ID       { return r.p }
func (r *fuzzReceipt) Key() keys.PublicKey { return r.pk }
func (r *fuzzReceipt) Stranger() bool      { return true }
func (r *fuzzReceipt) Emit(event.Event)    {}
func (r *fuzzReceipt) After(func())        {}
func (r *fuzzReceipt) Store(m storage.Message) error {
	if _, err := r.tx.Contact(r.p); errors.Is(err, storage.ErrNotFound) {
		if err := r.tx.PutContact(storage.Contact{Peer: r.p, State: storage.ContactUnknown, Created: m.Received, Updated: m.Received}); err != nil {
			return err
		}
	} else if err != nil {
		return err
	}
	return r.tx.PutMessage(m)
}

// groupControlOf is the group control a 1:1 content carries, as dm hands
// it to the group handler.
func groupControlOf(c *dmpb.Content) (dm.GroupControl, error) {
	switch b := c.Body.(type) {
	case *dmpb.Content_GroupInvite:
		return dm.GroupControl{Kind: dm.GroupInvite, Body: b.GroupInvite}, nil
	case *dmpb.Content_GroupKey:
		return dm.GroupControl{Kind: dm.GroupKey, Body: b.GroupKey}, nil
	case *dmpb.Content_GroupDecline:
		return dm.GroupControl{Kind: dm.GroupDecline, Body: b.GroupDecline}, nil
	case *dmpb.Content_GroupLeave:
		return dm.GroupControl{Kind: dm.GroupLeave, Body: b.GroupLeave}, nil
	case *dmpb.Content_GroupRemoved:
		return dm.GroupControl{Kind: dm.GroupRemoved, Body: b.GroupRemoved}, nil
	}
	return dm.GroupControl{}, fmt.Errorf("not a group control: %T", c.Body)
}
