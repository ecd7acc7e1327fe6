package client_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel/api"
	"github.com/backchannel/backchannel/api/apitest"
	"github.com/backchannel/backchannel/api/client"
)

// TestGroupChanges reads a group's roster changes through the client, by
// the group's name and by its ID, oldest first, and checks that an unknown
// group comes back with its code.
func TestGroupChanges(t *testing.T) {
	s := apitest.StartServer(t)
	bob, carol := apitest.PeerID(1), apitest.PeerID(3)
	c, err := client.FromHome(s.Home)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	g, err := c.CreateGroup(ctx, "Book club")
	if err != nil {
		t.Fatal(err)
	}
	if cs, err := c.GroupChanges(ctx, "Book club"); err != nil || cs == nil || len(cs) != 0 {
		t.Fatalf("GroupChanges of a new group: %+v, %v; want none (an empty list)", cs, err)
	}
	for _, step := range []struct {
		name string
		err  error
	}{
		{"invite", c.InviteToGroup(ctx, "Book club", bob.String(), carol.String())},
		{"admin", c.GrantGroupAdmin(ctx, "Book club", bob.String(), true)},
		{"remove", c.RemoveGroupMember(ctx, "Book club", carol.String())},
		{"rekey", c.RekeyGroup(ctx, "Book club")}, // a new epoch, no roster change
	} {
		if step.err != nil {
			t.Fatalf("%s: %v", step.name, step.err)
		}
	}
	want := []api.GroupChange{
		{Epoch: 1, SignerID: apitest.PeerID(0).String(), Added: []string{bob.String(), carol.String()}, Removed: []string{}, Admins: []string{}, NotAdmin: []string{}},
		{Epoch: 2, SignerID: apitest.PeerID(0).String(), Added: []string{}, Removed: []string{}, Admins: []string{bob.String()}, NotAdmin: []string{}},
		{Epoch: 3, SignerID: apitest.PeerID(0).String(), Added: []string{}, Removed: []string{carol.String()}, Admins: []string{}, NotAdmin: []string{}},
	}
	for _, ref := range []string{"Book club", g.ID} {
		cs, err := c.GroupChanges(ctx, ref)
		if err != nil || !slices.EqualFunc(cs, want, sameChange) {
			t.Errorf("GroupChanges(%q): %+v, %v\nwant %+v", ref, cs, err, want)
		}
	}
	var ae *client.Error
	if _, err := c.GroupChanges(ctx, "Chess club"); !errors.As(err, &ae) || ae.Code != api.CodeNotFound || ae.Status != 404 {
		t.Errorf("GroupChanges of an unknown group: %v, want %s", err, api.CodeNotFound)
	}
}

func sameChange(a, b api.GroupChange) bool {
	return a.Epoch == b.Epoch && a.SignerID == b.SignerID && slices.Equal(a.Added, b.Added) &&
		slices.Equal(a.Removed, b.Removed) && slices.Equal(a.Admins, b.Admins) && slices.Equal(a.NotAdmin, b.NotAdmin)
}

// TestGroupMemberNames: through the client, a member who is no contact
// shows by the name it announced in the group, in the members and as the
// author of its lines.
func TestGroupMemberNames(t *testing.T) {
	s := apitest.StartServer(t)
	carol := apitest.PeerID(3)
	c, err := client.FromHome(s.Home)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if _, err := c.CreateGroup(ctx, "Book club"); err != nil {
		t.Fatal(err)
	}
	if err := c.InviteToGroup(ctx, "Book club", carol.String()); err != nil {
		t.Fatal(err)
	}
	id := apitest.GroupID(1)
	if err := s.Fake.AnnounceGroupName(id, carol, "Carol"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Fake.GroupSpeak(id, carol, "hi all"); err != nil {
		t.Fatal(err)
	}
	d, err := c.Group(ctx, "Book club")
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(d.Members, func(m api.GroupMember) bool { return m.PeerID == carol.String() })
	if i < 0 || d.Members[i].Display != "Carol" || d.Members[i].Name != "Carol" || d.Members[i].Contact {
		t.Errorf("members %+v, want Carol by her name", d.Members)
	}
	if j := slices.IndexFunc(d.Members, func(m api.GroupMember) bool { return m.Me }); j < 0 || d.Members[j].Display != "you" {
		t.Errorf("members %+v, want us as you", d.Members)
	}
	ms, err := c.GroupMessages(ctx, "Book club", 10, time.Time{})
	if err != nil || len(ms) != 1 || ms[0].Sender.Display != "Carol" || ms[0].Sender.PeerID != carol.String() {
		t.Errorf("messages %+v, %v; want one by Carol", ms, err)
	}
}
