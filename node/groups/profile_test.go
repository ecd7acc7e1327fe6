package groups

import (
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/crypto/group"
	"github.com/backchannel/backchannel/crypto/identity"
	"github.com/backchannel/backchannel/node/event"
	"github.com/backchannel/backchannel/node/groups/groupspb"
	"github.com/backchannel/backchannel/node/groups/rosterchain"
	"github.com/backchannel/backchannel/node/internal/naming"
	"github.com/backchannel/backchannel/storage"
)

// applyProfile applies a profile content from the group's other member,
// sent at sent, as if opened from one of its envelopes.
func (fg *fuzzGroup) applyProfile(t *testing.T, name string, sent time.Time) (*event.Event, bool) {
	t.Helper()
	return fg.applyProfileAt(t, name, sent.UnixNano())
}

// applyProfileAt is applyProfile with the sent time as the wire has it.
func (fg *fuzzGroup) applyProfileAt(t *testing.T, name string, sent int64) (*event.Event, bool) {
	t.Helper()
	e, err := group.UnmarshalEnvelope(fg.seeds[0])
	if err != nil {
		t.Fatal(err)
	}
	gc := &groupspb.GroupContent{SentUnixNano: sent, Body: &groupspb.GroupContent_Profile{Profile: &groupspb.GroupProfile{Name: name}}}
	var (
		ev     *event.Event
		worthy bool
	)
	err = fg.s.store.Update(func(tx *storage.Txn) error {
		g, err := getGroup(tx, fg.id)
		if err != nil {
			return err
		}
		chain, err := rosterchain.Load(tx, g)
		if err != nil {
			return err
		}
		id := sha256.Sum256(fmt.Appendf(nil, "%s %d", name, sent))
		ev, worthy, err = fg.s.applyGroupContent(tx, &g, chain, e, id, gc, false, time.Now().UTC())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return ev, worthy
}

// otherShownAs is how the group's members list shows the other member.
func (fg *fuzzGroup) otherShownAs(t *testing.T) Member {
	t.Helper()
	ms, err := fg.s.GroupMembers(fg.id)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range ms {
		if m.Peer == fg.other.Public().Key.PeerID() {
			return m
		}
	}
	t.Fatal("the other member is not listed")
	return Member{}
}

// TestGroupProfileName: a member's announced name is kept (the latest by
// sent time wins), shows in the members list, is no line of the thread,
// raises no unread count and asks for no receipt; a name with a control
// character, an empty one or one too long is refused like any malformed
// content; a name taken by a contact is marked with the end of the peer ID.
func TestGroupProfileName(t *testing.T) {
	fg := newFuzzGroup(t)
	other := fg.other.Public().Key.PeerID()
	if m := fg.otherShownAs(t); m.Name != "" || m.Display != naming.Short(other) || m.Role != group.RoleMember {
		t.Errorf("before any name: %+v", m)
	}
	t0 := time.Now().Add(-time.Minute)
	ev, worthy := fg.applyProfile(t, "Bob", t0)
	if ev == nil || ev.Type != event.GroupMember || ev.Group.Kind != KindProfile || ev.Group.Member != other || worthy {
		t.Errorf("a new name: event %+v, receipt %v", ev, worthy)
	}
	if m := fg.otherShownAs(t); m.Name != "Bob" || m.Display != "Bob" || m.Contact || m.Me {
		t.Errorf("after the name: %+v", m)
	}
	if ev, _ := fg.applyProfile(t, "Bob", t0.Add(time.Second)); ev != nil {
		t.Errorf("the same name again: event %+v", ev)
	}
	if ev, _ := fg.applyProfile(t, "Old Bob", t0.Add(-time.Second)); ev != nil || fg.otherShownAs(t).Name != "Bob" {
		t.Errorf("an older name counted: %+v", ev)
	}
	for _, bad := range []string{"bad\x1b[2J", "", strings.Repeat("x", 65), "gnp\u202e.exe", "two\nlines", "\xff"} {
		if ev, worthy := fg.applyProfile(t, bad, t0.Add(time.Hour/2)); ev != nil || worthy {
			t.Errorf("name %q: event %+v", bad, ev)
		}
		if m := fg.otherShownAs(t); m.Name != "Bob" {
			t.Errorf("name %q taken: %+v", bad, m)
		}
	}
	if ev, _ := fg.applyProfile(t, "Robert", t0.Add(2*time.Second)); ev == nil || fg.otherShownAs(t).Display != "Robert" {
		t.Errorf("a later name: %+v, %+v", ev, fg.otherShownAs(t))
	}
	ms, err := fg.s.GroupMessages(fg.id, 100, time.Time{})
	if err != nil || len(ms) != 0 {
		t.Errorf("the thread holds %d lines (%v), want none", len(ms), err)
	}
	if info, err := fg.s.Group(fg.id); err != nil || info.Unread != 0 {
		t.Errorf("unread %d, %v", info.Unread, err)
	}
	// A contact of ours goes by that name: the member is marked.
	err = fg.s.store.Update(func(tx *storage.Txn) error {
		return tx.PutContact(storage.Contact{Peer: identity.New().Public().Key.PeerID(), State: storage.ContactAccepted, Name: "robert"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if m := fg.otherShownAs(t); m.Display != "Robert ("+naming.Short(other)+")" {
		t.Errorf("a name a contact has: %+v", m)
	}
}
