package node

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/crypto/keys"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/internal/dmpb"
	"github.com/backchannel/backchannel/storage"
	"github.com/libp2p/go-libp2p/core/peer"
)

// fuzzGroup is a node (not started) in a group with one other member,
// whose envelopes the fuzzers start from.
type fuzzGroup struct {
	n      *Node
	id     group.ID
	other  identity.Identity
	gk     group.GroupKey
	roster *group.Roster
	lg     *liveGroup
	seeds  [][]byte // encoded envelopes of the other member
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
	fg.roster, err = group.Genesis(n.id.Signing(), fg.id, []group.Member{{Key: n.self(), Role: group.RoleOwner}, {Key: fg.other.Public().Key, Role: group.RoleMember}})
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
	fg.lg = &liveGroup{id: fg.id, stash: map[uint64][][]byte{}}
	if err := n.loadView(fg.lg); err != nil {
		f.Fatal(err)
	}
	n.groups.live[fg.id] = fg.lg
	sc, err := group.NewSendChain(fg.gk, fg.other.Signing())
	if err != nil {
		f.Fatal(err)
	}
	for _, c := range fuzzContents() {
		pt, _ := proto.Marshal(c)
		e, err := sc.Seal(pt)
		if err != nil {
			f.Fatal(err)
		}
		b, _ := e.MarshalBinary()
		fg.seeds = append(fg.seeds, b)
	}
	return fg
}

func fuzzContents() []*dmpb.GroupContent {
	target := make([]byte, 32)
	mark := &dmpb.GroupMark{Epoch: 0, Sender: make([]byte, 32), Next: 3}
	return []*dmpb.GroupContent{
		{SentUnixNano: 1, Body: &dmpb.GroupContent_Text{Text: &dmpb.GroupText{Body: "hi", ReplyTo: target}}},
		{Body: &dmpb.GroupContent_Reaction{Reaction: &dmpb.GroupReaction{Target: target, Emoji: "👍"}}},
		{Body: &dmpb.GroupContent_Event{Event: &dmpb.GroupEvent{Title: "picnic", StartUnixNano: 5}}},
		{Body: &dmpb.GroupContent_Rsvp{Rsvp: &dmpb.GroupRsvp{Event: target, Answer: dmpb.GroupRsvp_MAYBE}}},
		{Body: &dmpb.GroupContent_Rename{Rename: &dmpb.GroupRename{Name: "new name"}}},
		{Body: &dmpb.GroupContent_Receipt{Receipt: &dmpb.GroupReceipt{Delivered: []*dmpb.GroupMark{mark}, Read: []*dmpb.GroupMark{mark}}}},
		{Body: &dmpb.GroupContent_Left{Left: &dmpb.GroupLeft{}}},
	}
}

// FuzzGroupContent feeds arbitrary plaintexts, as if decrypted from a
// member's envelope, to what stores them: bad content is dropped, never a
// panic nor a failed transaction.
func FuzzGroupContent(f *testing.F) {
	fg := newFuzzGroup(f)
	for _, c := range fuzzContents() {
		b, _ := proto.Marshal(c)
		f.Add(b)
	}
	env, err := group.UnmarshalEnvelope(fg.seeds[0])
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var gc dmpb.GroupContent
		if proto.Unmarshal(b, &gc) != nil {
			return
		}
		e := *env
		err := fg.n.store.Update(func(tx *storage.Txn) error {
			g, err := getGroup(tx, fg.id)
			if err != nil {
				return err
			}
			chain, err := loadChain(tx, g)
			if err != nil {
				return err
			}
			id := sha256.Sum256(b) // another message each time
			_, _, err = fg.n.applyGroupContent(tx, &g, chain, &e, id, &gc, false, time.Now().UTC())
			return err
		})
		if err != nil {
			t.Fatalf("content %x: %v", b, err)
		}
	})
}

// FuzzGroupControl feeds arbitrary group control contents, as if decrypted
// from the other member's 1:1 session, to the receive path: a bad one is
// dropped (acked, nothing stored), never a panic nor a broken transaction.
func FuzzGroupControl(f *testing.F) {
	fg := newFuzzGroup(f)
	rb, _ := fg.roster.MarshalBinary()
	kb, _ := fg.gk.MarshalBinary()
	for _, c := range []*dmpb.Content{
		{Body: &dmpb.Content_GroupInvite{GroupInvite: &dmpb.GroupInvite{Group: fg.id[:], Secret: make([]byte, 32), Name: "g", Roster: rb}}},
		{Body: &dmpb.Content_GroupKey{GroupKey: &dmpb.GroupKey{Key: kb, Roster: rb}}},
		{Body: &dmpb.Content_GroupDecline{GroupDecline: &dmpb.GroupDecline{Group: fg.id[:]}}},
		{Body: &dmpb.Content_GroupLeave{GroupLeave: &dmpb.GroupLeave{Group: fg.id[:]}}},
		{Body: &dmpb.Content_GroupRemoved{GroupRemoved: &dmpb.GroupRemoved{Group: fg.id[:], Roster: rb}}},
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

// FuzzGroupSync feeds arbitrary sync requests to the server and arbitrary
// answers to the client: neither panics, a request is answered or refused
// with an error, and an answer that does not check out changes nothing it
// should not.
func FuzzGroupSync(f *testing.F) {
	fg := newFuzzGroup(f)
	rb, _ := fg.roster.MarshalBinary()
	req, _ := proto.Marshal(&dmpb.GroupSyncRequest{Group: fg.id[:], Have: []*dmpb.GroupMark{{Epoch: 0, Sender: fg.other.Public().Key.Bytes(), Next: 1}}, Limit: 10})
	resp, _ := proto.Marshal(&dmpb.GroupSyncResponse{Envelopes: fg.seeds, Rosters: [][]byte{rb}, More: true})
	f.Add(req)
	f.Add(resp)
	from := fg.other.Public().Key.PeerID()
	f.Fuzz(func(t *testing.T, b []byte) {
		var q dmpb.GroupSyncRequest
		if proto.Unmarshal(b, &q) == nil {
			if r, err := fg.n.serveGroupSync(from, &q); err == nil && len(r.Envelopes) > maxGroupSync {
				t.Fatalf("answer of %d envelopes", len(r.Envelopes))
			}
		}
		var a dmpb.GroupSyncResponse
		if proto.Unmarshal(b, &a) == nil {
			if err := fg.n.applyGroupSync(fg.lg, &a); err != nil && !errors.Is(err, ErrProtocol) {
				t.Fatalf("answer %x: %v", b, err)
			}
		}
	})
}

// FuzzReadSyncRequest: a sync request frame, room or group, decodes or
// fails with an error.
func FuzzReadSyncRequest(f *testing.F) {
	fr, _ := appendFrame(nil, &dmpb.SyncRequest{Group: &dmpb.GroupSyncRequest{Group: make([]byte, 32)}})
	f.Add(fr)
	fr, _ = appendFrame(nil, &dmpb.SyncRequest{Room: make([]byte, 32), Newest: true, Limit: 10})
	f.Add(fr)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var req dmpb.SyncRequest
		_ = readFrame(bufio.NewReader(bytes.NewReader(b)), &req)
	})
}
