package groups

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/node/errs"
	"github.com/backchannel/backchannel/node/groups/content"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/groupsync"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/node/internal/frame"
	"github.com/backchannel/backchannel/pubsub"
	"github.com/backchannel/backchannel/storage"
)

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
		var gc groupspb.GroupContent
		if proto.Unmarshal(b, &gc) != nil {
			return
		}
		e := *env
		err := fg.s.store.Update(func(tx *storage.Txn) error {
			g, err := getGroup(tx, fg.id)
			if err != nil {
				return err
			}
			chain, err := rosterchain.Load(tx, g)
			if err != nil {
				return err
			}
			id := sha256.Sum256(b) // another message each time
			_, _, err = fg.s.applyGroupContent(tx, &g, chain, &e, id, &gc, false, time.Now().UTC())
			return err
		})
		if err != nil {
			t.Fatalf("content %x: %v", b, err)
		}
	})
}

// FuzzHandleControl feeds arbitrary control contents of every kind, as if
// from the other member's 1:1 session, to HandleControl: a bad one is
// dropped (nothing stored, no error), never a panic nor a broken
// transaction.
func FuzzHandleControl(f *testing.F) {
	fg := newFuzzGroup(f)
	rb, _ := fg.roster.MarshalBinary()
	kb, _ := fg.gk.MarshalBinary()
	for _, seed := range []struct {
		kind ControlKind
		m    proto.Message
	}{
		{ControlInvite, &groupspb.GroupInvite{Group: fg.id[:], Secret: make([]byte, 32), Name: "g", Roster: rb}},
		{ControlKey, &groupspb.GroupKey{Key: kb, Roster: rb}},
		{ControlDecline, &groupspb.GroupDecline{Group: fg.id[:]}},
		{ControlLeave, &groupspb.GroupLeave{Group: fg.id[:]}},
		{ControlRemoved, &groupspb.GroupRemoved{Group: fg.id[:], Roster: rb}},
	} {
		b, _ := proto.Marshal(seed.m)
		f.Add(uint8(seed.kind), b)
	}
	from := fg.other.Public().Key.PeerID()
	f.Fuzz(func(t *testing.T, kind uint8, b []byte) {
		k := ControlKind(kind%5 + 1)
		sum := sha256.Sum256(b)
		err := fg.s.store.Update(func(tx *storage.Txn) error {
			in := &fakeInbound{tx: tx, p: from, stranger: true}
			return fg.s.HandleControl(in, Control{Kind: k, Data: b, ID: storage.MessageID(sum[:16])})
		})
		if err != nil {
			t.Fatalf("control %d %x: %v", k, b, err)
		}
	})
}

// FuzzGroupSync feeds arbitrary sync requests to the server and arbitrary
// answers to the client: neither panics, a request is answered or refused
// with an error, and an answer that does not check out changes nothing it
// should not.
func FuzzGroupSync(f *testing.F) {
	fg := newFuzzGroup(f)
	rb, _ := fg.roster.MarshalBinary()
	req, _ := proto.Marshal(&groupspb.GroupSyncRequest{Group: fg.id[:], Have: []*groupspb.GroupMark{{Epoch: 0, Sender: fg.other.Public().Key.Bytes(), Next: 1}}, Limit: 10})
	resp, _ := proto.Marshal(&groupspb.GroupSyncResponse{Envelopes: fg.seeds, Rosters: [][]byte{rb}, More: true})
	f.Add(req)
	f.Add(resp)
	from := fg.other.Public().Key.PeerID()
	f.Fuzz(func(t *testing.T, b []byte) {
		var q groupspb.GroupSyncRequest
		if proto.Unmarshal(b, &q) == nil {
			if r, err := fg.s.serveGroupSync(from, &q); err == nil && len(r.Envelopes) > groupsync.MaxEnvelopes {
				t.Fatalf("answer of %d envelopes", len(r.Envelopes))
			}
		}
		var a groupspb.GroupSyncResponse
		if proto.Unmarshal(b, &a) == nil {
			if err := fg.s.applyGroupSync(fg.lg, &a); err != nil && !errors.Is(err, errs.ErrProtocol) {
				t.Fatalf("answer %x: %v", b, err)
			}
		}
	})
}

// FuzzTopicFrame: whatever a member forwards on an epoch's topic, the
// validator judges it without panicking, and what it accepts is stored.
func FuzzTopicFrame(f *testing.F) {
	fg := newFuzzGroup(f)
	for _, fr := range fg.frames {
		f.Add(fr)
	}
	from := fg.other.Public().Key.PeerID()
	validate := fg.lg.gate.Validator(fg.gk)
	f.Fuzz(func(t *testing.T, b []byte) {
		r, decoded := validate(context.Background(), from, b)
		if r != pubsub.Accept {
			return
		}
		in, ok := remoteEnvelope(pubsub.Message{Data: b, Decoded: decoded})
		if !ok {
			t.Fatalf("accepted frame %x does not convert", b)
		}
		if err := fg.s.storeEnvelopes(fg.id, []incoming{in}); err != nil {
			t.Fatalf("frame %x: %v", b, err)
		}
	})
}

// FuzzReadGroupSyncFrames: a group sync request or answer frame decodes or
// fails with an error.
func FuzzReadGroupSyncFrames(f *testing.F) {
	fr, _ := frame.Append(nil, &groupspb.GroupSyncRequest{Group: make([]byte, 32), Limit: 10})
	f.Add(fr)
	fr, _ = frame.Append(nil, &groupspb.GroupSyncResponse{Envelopes: [][]byte{{1}}, Error: "unknown group"})
	f.Add(fr)
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f})
	f.Fuzz(func(t *testing.T, b []byte) {
		var req groupspb.GroupSyncRequest
		_ = frame.Read(bufio.NewReader(bytes.NewReader(b)), &req, groupsync.MaxRequestFrame)
		var resp groupspb.GroupSyncResponse
		_ = frame.Read(bufio.NewReader(bytes.NewReader(b)), &resp, groupsync.MaxResponseFrame)
	})
}

// FuzzGroupProfile feeds arbitrary names and sent times, as if announced
// by the other member: no panic, no failed transaction, and a name kept is
// one CheckProfileName allows (no control character, 1 to 64 bytes).
func FuzzGroupProfile(f *testing.F) {
	fg := newFuzzGroup(f)
	f.Add("Bob", int64(1))
	f.Add("bad\x1b[2J", int64(2))
	f.Add("gnp\u202e.exe", int64(-1))
	f.Add(strings.Repeat("é", 40), int64(1<<62))
	other := fg.other.Public().Key.PeerID()
	f.Fuzz(func(t *testing.T, name string, sent int64) {
		fg.applyProfileAt(t, name, sent)
		err := fg.s.store.View(func(tx *storage.Txn) error {
			n, err := tx.GroupMemberName(sid(fg.id), other)
			if errors.Is(err, storage.ErrNotFound) {
				return nil
			}
			if err == nil && content.CheckProfileName(n.Name) != nil {
				t.Fatalf("kept the name %q", n.Name)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
