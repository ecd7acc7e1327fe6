package client_test

import (
	"errors"
	"slices"
	"testing"

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
